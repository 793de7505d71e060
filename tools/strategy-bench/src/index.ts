/**
 * The strategy-bench core as other packages use it (tools/planner): this export list is the API;
 * a package outside tools/strategy-bench imports from here, not from its files.
 */
export {
  type Align,
  figureTable,
  formatNumber,
  markdownTable,
  metOrMissed,
  percentile,
} from "./benchkit.js";
export { perStackCharts, type SeriesRun, seriesCharts } from "./chart-list.js";
export {
  barChart,
  type Chart,
  chartsMarkdown,
  formatMemoryKB,
  phaseLoad,
  writeCharts,
} from "./charts.js";
export { k8sClients } from "./cluster/kube.js";
export {
  eventCount,
  HPA_FLAGS,
  HPA_TOLERANCE_DEFAULT,
  METRIC_RESOLUTION_DEFAULT,
  MONITOR_INTERVAL,
  type TimelineEntry,
} from "./cluster-scale.js";
export { RUN_FILES, resolveSchedule } from "./commands.js";
export { type LoadtestRow, readLoadtestCsv, readLoadtestPercentiles } from "./csv.js";
export {
  commaList,
  contextOption,
  errorMarginOption,
  kubeconfigOption,
  maxReplicasOption,
  nodesOption,
  numberValue,
  profileOption,
  seedOption,
  sloP50Option,
  sloP95Option,
  stacksOption,
  timeScaleOption,
  wholeNumber,
} from "./flags.js";
export { notAFileMessage, zodIssues } from "./issues.js";
export { runLoadtest } from "./loadtest.js";
export { podCondition } from "./monitor.js";
export { readMonitorCsv } from "./monitor-csv.js";
export { CLOCK_TICKS, processTree, threadIds, treeRssKB } from "./proc.js";
export { prometheusSamples, sumOf } from "./prometheus.js";
export { cpuCores } from "./quantity.js";
export { childRandom, type Random } from "./random.js";
export { runConditions } from "./report/conditions.js";
export {
  type HtmlChart,
  type HtmlPage,
  markdownSections,
  readHtmlCharts,
  writeHtmlReport,
} from "./report/html.js";
export { runOutDir, runTimestamp, writeJson } from "./runmeta.js";
export { checkTarget } from "./safety.js";
export {
  ORIGINAL_SCHEDULE_FILE,
  phaseFileSchema,
  repeatGroups,
  type Schedule,
} from "./schedule.js";
export { phaseUsers } from "./siege-users.js";
export { loadStack, localServerEnv, type StackSettings } from "./stack.js";
export {
  LOAD_LABELS,
  type LoadSummary,
  type MonitorSample,
  meanOf,
  type ResourceSummary,
  summarizeLoad,
  summarizeResources,
} from "./summary.js";
