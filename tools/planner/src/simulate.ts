import { memoryBytes } from "../../../components/quantity.js";
import type { LoadtestRow, Schedule, StackSettings } from "../../strategy-bench/src/index.js";
import {
  cpuCores,
  type LoadSummary,
  METRIC_RESOLUTION_DEFAULT,
  MONITOR_INTERVAL,
  type MonitorSample,
  percentile,
  phaseUsers,
  type ResourceSummary,
  summarizeLoad,
  summarizeResources,
} from "../../strategy-bench/src/index.js";
import { type CapacityProfile, profileForLimit, replicaCapacity } from "./capacity-profile.js";
import type { Cluster } from "./cluster.js";
import {
  CONTROLLER_DEFAULTS,
  type ControllerConfig,
  HorizontalController,
  type HpaDecision,
  type HpaPod,
  hpaSpecFromStack,
} from "./hpa.js";
import { type LoadUser, PoissonArrivals } from "./load.js";
import { MetricsServer } from "./metrics-server.js";
import { readyDelaySeconds, startupBudget } from "./readiness.js";
import { ReplicaQueue } from "./replica-queue.js";
import { type NodeState, type Requests, Scheduler } from "./scheduler.js";

/**
 * The simulation: one stack's Deployment + HPA on a cluster, under a siege schedule, event by
 * event (requests, completions, metrics scrapes, HPA syncs, readiness, monitor samples). Every
 * random draw is the users' think time, from the loadtest's own seeded streams, so a run is
 * deterministic for a seed.
 */
export interface PlanOptions {
  stack: StackSettings;
  schedule: Schedule;
  profiles: readonly CapacityProfile[];
  cluster: Cluster;
  seed?: number;
  controller?: Partial<ControllerConfig>;
  /** metrics-server --metric-resolution, seconds (default 15). */
  metricsResolutionSeconds?: number;
  /** The monitor's sampling interval, seconds (default 5, as `strategy-bench monitor`). */
  monitorIntervalSeconds?: number;
  /** First HPA sync and first scrape after the test starts, seconds (default 0 both). */
  hpaOffsetSeconds?: number;
  metricsOffsetSeconds?: number;
  /** Per-request timeout, seconds (siege's 30): a slower response is a socket failure. */
  timeoutSeconds?: number;
  /**
   * Open-loop load: requests per second per phase (Poisson arrivals, src/plan/load.ts) instead
   * of the phases' siege users.
   */
  rates?: readonly number[];
}

export interface PlanPhase {
  phase: string;
  transactions: number;
  okay: number;
  /** 503s (no ready endpoint) and timeouts. */
  failed: number;
  /** Requests slower than the timeout (siege's socket failures). */
  socketFailures: number;
  elapsedSeconds: number;
  /** Mean over the OKAY responses, seconds. */
  responseTime: number;
  users: number;
  delaySeconds: number;
  start: number;
  p95: number;
  transactionRate: number;
  meanReady: number;
  meanPending: number;
  maxReplicas: number;
  /** CPU used / CPU requested of the running pods, mean over the phase's samples (%). */
  cpuUtilization: number;
  /** Open loop: the phase's arrival rate (req/s); undefined for siege users. */
  rate?: number;
}

export interface PlanSample {
  /** Seconds since the test's start. */
  time: number;
  replicas: number;
  memRequestedKB: number;
  memUsedKB: number;
  cpuUsed: number;
  ready: number;
  pending: number;
  cpuRequested: number;
  cpuLimit: number;
  memLimitKB: number;
  /** Requests of the pods bound to a node (the report's strategy 2 column counted these). */
  memRequestedScheduledKB: number;
  desiredReplicas: number;
}

/**
 * The largest value of a sample's field over a run (0 without a sample): pods Pending at once,
 * replicas ready, replicas.
 */
export function samplePeak<K extends "pending" | "ready" | "replicas">(
  samples: readonly Pick<PlanSample, K>[],
  field: K,
): number {
  return samples.reduce((a, x) => Math.max(a, x[field]), 0);
}

export interface PendingEpisode {
  pod: string;
  since: number;
  until?: number;
  reason: string;
}

export interface PlanResult {
  stack: string;
  /** The stack's HPA CPU target (% of requests), for the charts. */
  hpaTargetCpuUtilization: number;
  schedule: string;
  seed: number;
  cluster: string;
  profile: { source: CapacityProfile["source"]; description: string; cpu: number };
  readyDelaySeconds: number;
  effectiveCoresPerReplica: number;
  phases: PlanPhase[];
  samples: PlanSample[];
  decisions: HpaDecision[];
  pending: PendingEpisode[];
  /** Response-time percentiles over every OKAY response of the run, seconds. */
  latency: { p50: number; p95: number };
  load: LoadSummary;
  resources: ResourceSummary;
  /** The same over the scheduled pods' requests only. */
  resourcesScheduled: ResourceSummary;
  notes: string[];
}

interface Req {
  user: LoadUser;
  start: number;
  phase: number;
}

interface SimPod {
  name: string;
  createdAt: number;
  node?: NodeState;
  scheduledAt?: number;
  readyAt?: number;
  ready: boolean;
  /** Ready condition's last transition (pod start, then readiness). */
  readyTransition?: number;
  deleting: boolean;
  removed: boolean;
  queue?: ReplicaQueue<Req>;
  idleCores: number;
  lastInFlightIntegral: number;
  meanInFlight: number;
  pendingEpisode?: PendingEpisode;
}

type EventKind = "ready" | "scrape" | "sync" | "sample" | "request";
const ORDER: Record<EventKind, number> = { ready: 0, scrape: 1, sync: 2, sample: 3, request: 4 };
interface SimEvent {
  t: number;
  kind: EventKind;
  seq: number;
  pod?: SimPod;
  user?: LoadUser;
  phase?: number;
}

/** A binary min-heap on (t, kind order, insertion order): equal times resolve deterministically. */
class EventQueue {
  private readonly a: SimEvent[] = [];
  private seq = 0;
  private less(x: SimEvent, y: SimEvent): boolean {
    if (x.t !== y.t) return x.t < y.t;
    if (x.kind !== y.kind) return ORDER[x.kind] < ORDER[y.kind];
    return x.seq < y.seq;
  }
  push(e: Omit<SimEvent, "seq">): void {
    const a = this.a;
    a.push({ ...e, seq: this.seq++ });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as SimEvent, a[p] as SimEvent)) break;
      [a[i], a[p]] = [a[p] as SimEvent, a[i] as SimEvent];
      i = p;
    }
  }
  peek(): SimEvent | undefined {
    return this.a[0];
  }
  pop(): SimEvent | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as SimEvent, a[m] as SimEvent)) m = l;
        if (r < a.length && this.less(a[r] as SimEvent, a[m] as SimEvent)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as SimEvent, a[i] as SimEvent];
        i = m;
      }
    }
    return top;
  }
}

/**
 * When the pods deployed before the test started: past the HPA's CPU initialization period (the
 * simulation's and the HPA replay's initial replicas).
 */
export const WARM_START = -600;

export function simulatePlan(o: PlanOptions): PlanResult {
  const s = o.stack;
  const seed = o.seed ?? 1;
  const cfg: ControllerConfig = { ...CONTROLLER_DEFAULTS, ...o.controller };
  const resolution = o.metricsResolutionSeconds ?? METRIC_RESOLUTION_DEFAULT;
  const monitorInterval = o.monitorIntervalSeconds ?? MONITOR_INTERVAL;
  const timeout = o.timeoutSeconds ?? 30;
  const notes: string[] = [];

  const limitCores = cpuCores(s.resources.limits.cpu);
  const requests: Requests = {
    cpuMilli: Math.round(cpuCores(s.resources.requests.cpu) * 1000),
    memoryBytes: memoryBytes(s.resources.requests.memory),
  };
  const limitMemoryBytes = memoryBytes(s.resources.limits.memory);
  const { profile, note } = profileForLimit(o.profiles, limitCores);
  if (profile.source === "estimated") notes.push(`capacity profile: ${profile.description}`);
  if (note) notes.push(note);
  const readyDelay = readyDelaySeconds(profile.startupSeconds, s.probes);
  const budget = startupBudget(profile.startupSeconds, s.probes);
  if (!budget.fits) {
    notes.push(
      `start-up ${profile.startupSeconds} s exceeds the startup probe's ${budget.budgetSeconds} s: new pods would restart, not become ready`,
    );
  }
  const maxNodeCores = Math.max(...o.cluster.nodes.map((n) => n.cpuMilli / 1000));
  if (maxNodeCores < limitCores) {
    notes.push(
      `limits.cpu ${s.resources.limits.cpu} but the largest node has ${maxNodeCores} allocatable CPU: a replica gets at most the node's CPU`,
    );
  }

  const scheduler = new Scheduler(o.cluster.nodes);
  const metrics = new MetricsServer(resolution);
  const hpa = new HorizontalController(hpaSpecFromStack(s), cfg);
  const events = new EventQueue();
  const pods: SimPod[] = [];
  const decisions: HpaDecision[] = [];
  const samples: PlanSample[] = [];
  const pending: PendingEpisode[] = [];
  let specReplicas = 0;
  let podSeq = 0;
  let roundRobin = 0;
  let now = 0;

  const live = () => pods.filter((p) => !p.removed);
  const readyPods = () => pods.filter((p) => p.ready && !p.deleting && !p.removed);

  /**
   * Usable cores of each pod on a node: min(limit, node CPU / pods *busy* on it, i.e. with a
   * request inside). CFS is work-conserving: cpu.shares (requests.cpu) divide the CPU only among
   * the cgroups that want it, and a pod's quota (limits.cpu) is its only cap, so a pod alone at
   * work on the node gets all of it while its idle neighbour waits for requests. (Dividing by the
   * ready pods made one request on a 2-CPU node with two pods twice as slow as measured on real
   * pods: docs/planning.md, "Against real pods".) Called when a pod's queue turns busy or idle.
   */
  const reshare = (node: NodeState) => {
    const onNode = pods.filter((p) => p.node === node && !p.removed && p.queue);
    const busy = Math.max(1, onNode.filter((p) => (p.queue?.size ?? 0) > 0).length);
    const cores = Math.min(limitCores, node.spec.cpuMilli / 1000 / busy);
    const cap = replicaCapacity(profile, cores);
    for (const p of onNode) {
      p.queue?.advance(now);
      p.queue?.setCapacity(cap.rate, cap.cpuSecondsPerRequest, cores);
      p.idleCores = cap.idleCpuCores;
    }
  };

  /**
   * Bind a pod, or leave it Pending with the scheduler's reason. `initial` pods were deployed
   * and became ready before the test: they serve from time 0.
   */
  const bind = (p: SimPod, initial = false): boolean => {
    const placed = scheduler.schedule(p.name, requests);
    if ("reason" in placed) {
      if (!p.pendingEpisode || p.pendingEpisode.reason !== placed.reason) {
        if (p.pendingEpisode) p.pendingEpisode.until = now;
        p.pendingEpisode = { pod: p.name, since: now, reason: placed.reason };
        pending.push(p.pendingEpisode);
      }
      return false;
    }
    if (p.pendingEpisode) p.pendingEpisode.until = now;
    p.node = placed.node;
    p.scheduledAt = initial ? WARM_START : now;
    p.readyTransition = p.scheduledAt;
    const cap = replicaCapacity(profile, limitCores);
    p.queue = new ReplicaQueue<Req>(cap.rate, cap.cpuSecondsPerRequest, limitCores, now);
    if (initial) {
      p.readyAt = p.scheduledAt + readyDelay;
      p.ready = true;
      p.readyTransition = p.readyAt;
    } else {
      p.readyAt = now + readyDelay;
      events.push({ t: p.readyAt, kind: "ready", pod: p });
    }
    reshare(placed.node);
    return true;
  };

  const schedulePending = () => {
    for (const p of pods) if (!p.removed && !p.deleting && !p.node) bind(p);
  };

  const removePod = (p: SimPod) => {
    p.removed = true;
    if (p.pendingEpisode && p.pendingEpisode.until === undefined) p.pendingEpisode.until = now;
    if (p.node) {
      scheduler.release(p.name, p.node, requests);
      reshare(p.node);
      schedulePending();
    }
  };

  const createPod = (initial: boolean) => {
    const p: SimPod = {
      name: `${s.stack}-${++podSeq}`,
      createdAt: initial ? WARM_START : now,
      ready: false,
      deleting: false,
      removed: false,
      idleCores: 0,
      lastInFlightIntegral: 0,
      meanInFlight: 0,
    };
    pods.push(p);
    bind(p, initial);
    return p;
  };

  /** The ReplicaSet controller: create pods, or delete unscheduled, then unready, then newest. */
  const scaleTo = (n: number) => {
    specReplicas = n;
    const active = pods.filter((p) => !p.removed && !p.deleting);
    for (let i = active.length; i < n; i++) createPod(false);
    if (active.length > n) {
      const rank = (p: SimPod) => (p.node ? (p.ready ? 2 : 1) : 0);
      const victims = [...active]
        .sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt)
        .slice(0, active.length - n);
      for (const v of victims) {
        v.deleting = true;
        v.ready = false;
        if (!v.queue || v.queue.size === 0) removePod(v);
        else if (v.node) reshare(v.node);
      }
    }
  };

  // Before the test: minReplicas pods, started and ready long before (WARM_START).
  specReplicas = s.autoscaling.minReplicas;
  for (let i = 0; i < specReplicas; i++) createPod(true);
  const cumulativeCpu = (p: SimPod, t: number) =>
    (p.queue?.cpuSeconds ?? 0) + p.idleCores * (t - (p.scheduledAt ?? t));
  const doScrape = (t: number) => {
    const list = live().filter((p) => p.node && p.queue);
    for (const p of list) {
      p.queue?.advance(t);
      const integral = p.queue?.inFlightIntegral ?? 0;
      p.meanInFlight = (integral - p.lastInFlightIntegral) / resolution;
      p.lastInFlightIntegral = integral;
    }
    metrics.scrape(
      t,
      list.map((p) => ({
        name: p.name,
        cpuSeconds: cumulativeCpu(p, t),
        workingSetBytes: replicaCapacity(profile, limitCores).workingSetBytes(p.meanInFlight),
      })),
    );
  };
  // The scrape before the test, so the first HPA sync has a rate for the warm pods.
  doScrape(-resolution);

  const hpaOffset = o.hpaOffsetSeconds ?? 0;
  const metricsOffset = o.metricsOffsetSeconds ?? 0;
  events.push({ t: metricsOffset, kind: "scrape" });
  events.push({ t: hpaOffset, kind: "sync" });
  events.push({ t: 0, kind: "sample" });

  const kb = (bytes: number) => bytes / 1024;
  const handle = (e: SimEvent) => {
    now = e.t;
    switch (e.kind) {
      case "ready": {
        const p = e.pod as SimPod;
        if (!p.removed && !p.deleting && p.readyAt === e.t) {
          p.ready = true;
          p.readyTransition = e.t;
          if (p.node) reshare(p.node);
        }
        return;
      }
      case "scrape":
        doScrape(e.t);
        events.push({ t: e.t + resolution, kind: "scrape" });
        return;
      case "sync": {
        const hpaPods: HpaPod[] = live().map((p) => ({
          name: p.name,
          phase: p.node ? "Running" : "Pending",
          deleting: p.deleting,
          ...(p.scheduledAt !== undefined ? { startTime: p.scheduledAt } : {}),
          ...(p.node
            ? { ready: { status: p.ready, lastTransitionTime: p.readyTransition ?? p.createdAt } }
            : {}),
          cpuRequestMilli: requests.cpuMilli,
        }));
        const d = hpa.reconcile(e.t, specReplicas, hpaPods, metrics.pods);
        decisions.push(d);
        if (d.rescale) scaleTo(d.desiredReplicas);
        events.push({ t: e.t + cfg.syncPeriodSeconds, kind: "sync" });
        return;
      }
      case "sample": {
        const l = live();
        const running = l.filter((p) => p.node);
        const withMetric = running.filter((p) => metrics.pods.has(p.name));
        const sum = (ps: SimPod[], f: (p: SimPod) => number) => ps.reduce((a, p) => a + f(p), 0);
        samples.push({
          time: e.t,
          replicas: l.length,
          ready: readyPods().length,
          pending: l.filter((p) => !p.node).length,
          cpuRequested: (l.length * requests.cpuMilli) / 1000,
          memRequestedKB: kb(l.length * requests.memoryBytes),
          memRequestedScheduledKB: kb(running.length * requests.memoryBytes),
          cpuLimit: l.length * limitCores,
          memLimitKB: kb(l.length * limitMemoryBytes),
          cpuUsed:
            withMetric.length > 0
              ? sum(withMetric, (p) => metrics.pods.get(p.name)?.cpuCores ?? 0)
              : Number.NaN,
          memUsedKB:
            withMetric.length > 0
              ? kb(sum(withMetric, (p) => metrics.pods.get(p.name)?.workingSetBytes ?? 0))
              : Number.NaN,
          desiredReplicas: specReplicas,
        });
        events.push({ t: e.t + monitorInterval, kind: "sample" });
        return;
      }
      case "request":
        return; // handled in the phase loop
    }
  };

  const phases: PlanPhase[] = [];
  const allRts: number[] = [];
  let t0 = 0;
  o.schedule.phases.forEach((phase, index) => {
    const start = t0;
    const deadline = start + phase.durationSeconds;
    let outstanding = 0; // users with a request scheduled or in flight
    const rts: number[] = [];
    let okay = 0;
    let failed = 0;
    let timeouts = 0;
    let sumRt = 0;
    const next = (u: LoadUser, at: number) => {
      const t = u.nextRequestAt(at);
      if (t === undefined) return;
      outstanding++;
      events.push({ t, kind: "request", user: u, phase: index });
    };
    const rate = o.rates?.[index];
    const users: LoadUser[] =
      rate === undefined
        ? phaseUsers(phase, index, seed, start)
        : [new PoissonArrivals(rate, index, seed, deadline)];
    for (const u of users) next(u, start);

    for (;;) {
      // The next completion over the serving pods.
      let tc = Number.POSITIVE_INFINITY;
      let cp: SimPod | undefined;
      for (const p of pods) {
        if (p.removed || !p.queue || p.queue.size === 0) continue;
        const t = p.queue.nextCompletion();
        if (t < tc) {
          tc = t;
          cp = p;
        }
      }
      const top = events.peek();
      if (outstanding === 0) {
        const end = Math.max(deadline, now);
        if (!top || top.t > end) {
          now = end;
          break;
        }
      }
      if (cp && tc <= (top?.t ?? Number.POSITIVE_INFINITY)) {
        now = tc;
        const q = cp.queue as ReplicaQueue<Req>;
        q.advance(tc);
        const { item } = q.complete();
        const rt = tc - item.start;
        outstanding--;
        item.user.responded();
        if (rt > timeout) {
          failed++;
          timeouts++;
          if (!item.user.openLoop) next(item.user, tc + 0.05);
        } else {
          okay++;
          sumRt += rt;
          rts.push(rt);
          if (!item.user.openLoop) next(item.user, tc);
        }
        if (cp.deleting && q.size === 0) removePod(cp);
        else if (q.size === 0 && cp.node) reshare(cp.node);
        continue;
      }
      const e = events.pop() as SimEvent;
      if (e.kind !== "request") {
        handle(e);
        continue;
      }
      now = e.t;
      const user = e.user as LoadUser;
      if (user.openLoop) next(user, now); // the next arrival, whatever this one's response
      const ready = readyPods();
      if (ready.length === 0) {
        // No endpoint: the ingress answers 503 at once; the user goes on after a 50 ms pause.
        outstanding--;
        failed++;
        user.responded();
        if (!user.openLoop) next(user, now + 0.05);
        continue;
      }
      const p = ready[roundRobin++ % ready.length] as SimPod;
      const q = p.queue as ReplicaQueue<Req>;
      q.advance(now);
      q.arrive({ user, start: now, phase: index });
      if (q.size === 1 && p.node) reshare(p.node);
    }

    const end = now;
    const elapsed = end - start;
    const inPhase = samples.filter((x) => x.time >= start && x.time < end);
    const mean = (f: (x: PlanSample) => number) =>
      inPhase.length ? inPhase.reduce((a, x) => a + f(x), 0) / inPhase.length : Number.NaN;
    rts.sort((a, b) => a - b);
    for (const x of rts) allRts.push(x);
    phases.push({
      phase: String(index + 1),
      users: phase.users,
      delaySeconds: phase.delaySeconds,
      start,
      transactions: okay + failed - timeouts,
      okay,
      failed,
      socketFailures: timeouts,
      elapsedSeconds: elapsed,
      responseTime: okay > 0 ? sumRt / okay : 0,
      p95: percentile(rts, 95),
      transactionRate: elapsed > 0 ? (okay + failed - timeouts) / elapsed : 0,
      meanReady: mean((x) => x.ready),
      meanPending: mean((x) => x.pending),
      maxReplicas: samplePeak(inPhase, "replicas"),
      cpuUtilization: mean((x) =>
        Number.isFinite(x.cpuUsed) && x.replicas - x.pending > 0
          ? (100 * x.cpuUsed) / (((x.replicas - x.pending) * requests.cpuMilli) / 1000)
          : Number.NaN,
      ),
      ...(rate === undefined ? {} : { rate }),
    });
    t0 = end;
  });

  const totalEnd = now;
  const inTest = samples.filter((x) => x.time < totalEnd);
  const episodes = pending.map((p) => ({ ...p, until: p.until ?? totalEnd }));
  return {
    stack: s.stack,
    hpaTargetCpuUtilization: s.autoscaling.targetCpuUtilization,
    schedule: o.schedule.name,
    seed,
    cluster: o.cluster.description,
    profile: { source: profile.source, description: profile.description, cpu: profile.limits.cpu },
    readyDelaySeconds: readyDelay,
    effectiveCoresPerReplica: Math.min(limitCores, maxNodeCores),
    phases,
    samples: inTest,
    decisions,
    pending: episodes,
    latency: latencyPercentiles(allRts),
    ...planSummaries(phases, inTest),
    notes,
  };
}

function latencyPercentiles(rts: number[]): { p50: number; p95: number } {
  rts.sort((a, b) => a - b);
  return { p50: percentile(rts, 50), p95: percentile(rts, 95) };
}

/** A phase (predicted, or measured by runLoadtest) as the report's summary reads a loadtest CSV row. */
export function loadtestRow(
  p: Omit<LoadtestRow, "phase" | "date" | "statusCodes"> & { phase: string | number },
): LoadtestRow {
  return {
    phase: String(p.phase),
    transactions: p.transactions,
    elapsedSeconds: p.elapsedSeconds,
    responseTime: p.responseTime,
    okay: p.okay,
    failed: p.failed,
    socketFailures: p.socketFailures,
    users: p.users,
    delaySeconds: p.delaySeconds,
  };
}

/**
 * A plan's report figures, as `report` computes them from a run's CSVs: the load, and the
 * resources over all pods and over the scheduled pods only (what the report's strategy 2 counted).
 */
export function planSummaries(
  phases: readonly PlanPhase[],
  samples: readonly PlanSample[],
): Pick<PlanResult, "load" | "resources" | "resourcesScheduled"> {
  return {
    load: summarizeLoad(phases.map(loadtestRow)),
    resources: summarizeResources(samples.map((x) => monitorSample(x, false))),
    resourcesScheduled: summarizeResources(samples.map((x) => monitorSample(x, true))),
  };
}

/** A sample as the report's summary reads a monitor CSV row (optionally scheduled pods only). */
function monitorSample(x: PlanSample, scheduledOnly: boolean): MonitorSample {
  return {
    time: "",
    replicas: x.replicas,
    cpuLimit: x.cpuLimit,
    memRequestedKB: scheduledOnly ? x.memRequestedScheduledKB : x.memRequestedKB,
    memUsedKB: x.memUsedKB,
    cpuUsed: x.cpuUsed,
  };
}
