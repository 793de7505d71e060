/**
 * The planner as other places use it (the strategy-bench CLI, bench:planner): this
 * export list is the package's API.
 */

export { profileNames, readProfile } from "./capacity-profile.js";
export { parseNodes } from "./cluster.js";
export { registerPlanCommands } from "./commands.js";
export { CONTROLLER_DEFAULTS, controllerFlags } from "./hpa.js";
export { runHpaValidation } from "./hpa-harness.js";
export {
  knobsMarkdown,
  RECOMMEND_MAX_REPLICAS,
  type Recommendation,
  recommend,
  writeStackFile,
} from "./recommend.js";
export {
  checkRecommendation,
  type MeasuredRecommendationRun,
  readRecommendationRun,
  recommendationCheckMarkdown,
} from "./recommend-check.js";
export { type PlanOptions, type PlanResult, simulatePlan } from "./simulate.js";
export { syntheticValidation } from "./synthetic.js";
export { atMonitorSamples, comparePlanToRun, validationMarkdown } from "./validate.js";
export { HPA_VALIDATION_SECONDS } from "./validate-hpa.js";
export { sloOf, sloText } from "./verdict.js";
