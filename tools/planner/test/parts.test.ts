import { describe, expect, it } from "vitest";
import { childRandom } from "../../strategy-bench/src/random.js";
import { SiegeUser } from "../../strategy-bench/src/siege-users.js";
import { loadStack } from "../../strategy-bench/src/stack.js";
import {
  interpolate,
  parseProfile,
  profileForLimit,
  replicaCapacity,
} from "../src/capacity-profile.js";
import { defaultCluster, parseNodes } from "../src/cluster.js";
import { MetricsServer } from "../src/metrics-server.js";
import { readyDelaySeconds, startupBudget } from "../src/readiness.js";
import { ReplicaQueue } from "../src/replica-queue.js";
import { Scheduler } from "../src/scheduler.js";
import { ESTIMATED_PROFILE } from "./fixtures/estimated-profile.js";

const Gi = 2 ** 30;

describe("siege users", () => {
  it("draws the loadtest's think times (childRandom(seed, phase, user)) and stops at the deadline", () => {
    const phase = { users: 2, delaySeconds: 10, durationSeconds: 60 };
    const u = new SiegeUser(phase, 3, 1, 7, 60);
    const rand = childRandom(7, 3, 1);
    const first = rand() * 10;
    expect(u.nextRequestAt(0)).toBe(first);
    u.responded();
    expect(u.nextRequestAt(first + 0.2)).toBe(first + 0.2 + rand() * 10);
    // At 59.9 any draw above 0.1 s ends the user: with D = 10, that is 99 % of draws.
    const late = new SiegeUser({ ...phase, delaySeconds: 1e6 }, 0, 0, 1, 60);
    expect(late.nextRequestAt(59)).toBeUndefined();
  });

  it("stops after reps requests (siege -r)", () => {
    const u = new SiegeUser(
      { users: 1, delaySeconds: 0, durationSeconds: 60, reps: 2 },
      0,
      0,
      1,
      60,
    );
    expect(u.nextRequestAt(0)).toBe(0);
    u.responded();
    expect(u.nextRequestAt(1)).toBe(1);
    u.responded();
    expect(u.nextRequestAt(2)).toBeUndefined();
  });
});

describe("replica queue (processor sharing at the measured rate)", () => {
  it("two requests together share a constant 10/s: both finish at 0.2 s", () => {
    const q = new ReplicaQueue<string>(
      () => 10,
      () => 0.1,
      2,
    );
    q.arrive("a");
    q.arrive("b");
    expect(q.nextCompletion()).toBeCloseTo(0.2, 12);
  });

  it("a second request at 0.05 s: the first finishes at 0.15 s, the second at 0.2 s", () => {
    // Alone until 0.05 s: the first gets 0.5 of its work. Then each gets 5/s: the first needs
    // 0.5 / 5 = 0.1 s more → 0.15 s; the second has 0.5 done by then and finishes alone at 10/s
    // in 0.05 s → 0.2 s.
    const q = new ReplicaQueue<string>(
      () => 10,
      () => 0.1,
      2,
    );
    q.arrive("a");
    q.advance(0.05);
    q.arrive("b");
    const t1 = q.nextCompletion();
    expect(t1).toBeCloseTo(0.15, 12);
    q.advance(t1);
    expect(q.complete()).toEqual({ item: "a", arrivedAt: 0 });
    const t2 = q.nextCompletion();
    expect(t2).toBeCloseTo(0.2, 12);
    q.advance(t2);
    expect(q.complete().item).toBe("b");
    // CPU: 10/s × 0.1 s per request for 0.2 s = 0.2 CPU s (2 requests × 0.1).
    expect(q.cpuSeconds).toBeCloseTo(0.2, 12);
    // In flight: 1 for 0.05 s, 2 for 0.1 s, 1 for 0.05 s = 0.3.
    expect(q.inFlightIntegral).toBeCloseTo(0.3, 12);
  });

  it("held at n by a closed loop without think time, completes μ(n) per second", () => {
    const cap = replicaCapacity(ESTIMATED_PROFILE, 2);
    const q = new ReplicaQueue<number>(cap.rate, cap.cpuSecondsPerRequest, 2);
    for (let i = 0; i < 20; i++) q.arrive(i);
    // Each request gets 77.8 / 20 per second: the 1,000th completion (50 rounds of 20) is at
    // 1000 / 77.8 s.
    let done = 0;
    while (done < 1000) {
      const t = q.nextCompletion();
      q.advance(t);
      q.complete();
      q.arrive(done++);
    }
    expect(q.now).toBeCloseTo(1000 / 77.8, 9);
  });
});

describe("capacity profile", () => {
  it("interpolates the measured curve and scales it to other core counts", () => {
    expect(interpolate([[1, 10] as const, [3, 30] as const], 2)).toBe(20);
    expect(interpolate([[1, 10] as const, [3, 30] as const], 9)).toBe(30);
    const two = replicaCapacity(ESTIMATED_PROFILE, 2);
    // 33.4 + (77.8 − 33.4) × 9/19
    expect(two.rate(10)).toBeCloseTo(33.4 + (44.4 * 9) / 19, 10);
    expect(two.rate(0)).toBe(0);
    // One core: X(n) × 1/2, including one request alone (CFS throttling).
    expect(replicaCapacity(ESTIMATED_PROFILE, 1).rate(1)).toBeCloseTo(16.7, 10);
    // Three cores: never a faster single request, 1.5 × where the curve is CPU-bound.
    const three = replicaCapacity(ESTIMATED_PROFILE, 3);
    expect(three.rate(1)).toBeCloseTo(33.4, 10);
    expect(three.rate(30)).toBeCloseTo(80.1 * 1.5, 10);
    expect(two.workingSetBytes(0)).toBe(504 * 2 ** 20);
  });

  it("picks the profile measured at the stack's limit, else the nearest with a note", () => {
    const three = { ...ESTIMATED_PROFILE, limits: { cpu: 3 } };
    expect(profileForLimit([ESTIMATED_PROFILE, three], 3)).toEqual({ profile: three });
    expect(profileForLimit([ESTIMATED_PROFILE], 3).note).toMatch(/2-CPU curve is scaled/);
  });

  it("rejects a profile whose levels are out of order, naming the fix", () => {
    const bad = { ...ESTIMATED_PROFILE, levels: [...ESTIMATED_PROFILE.levels].reverse() };
    expect(() => parseProfile(JSON.parse(JSON.stringify(bad)), "p.json")).toThrow(
      /levels: levels must be in increasing order[\s\S]*Fix: write one with strategy-bench capacity/,
    );
    expect(parseProfile(JSON.parse(JSON.stringify(ESTIMATED_PROFILE)))).toEqual(ESTIMATED_PROFILE);
  });
});

describe("cluster and scheduler fit", () => {
  it("parses node groups of allocatable CPU and memory", () => {
    const c = parseNodes(["2x4cpu,16Gi", "1x500mcpu,1.5Gi"]);
    expect(c.nodes).toEqual([
      { name: "node-1", cpuMilli: 4000, memoryBytes: 16 * Gi },
      { name: "node-2", cpuMilli: 4000, memoryBytes: 16 * Gi },
      { name: "node-3", cpuMilli: 500, memoryBytes: 1.5 * Gi },
    ]);
  });

  it("names the bad value and the fix", () => {
    expect(() => parseNodes(["2x4,16Gi"])).toThrow(
      /--nodes "2x4,16Gi": not <count>x<cpu>cpu,<memory>\. Fix: --nodes <count>x<cpu>cpu,<memory>, e\.g\. --nodes 1x8cpu,8Gi/,
    );
    expect(() => parseNodes(["1x2cpu,lots"])).toThrow(/memory "lots" is not a positive quantity/);
    expect(() => parseNodes(["0x2cpu,4Gi"])).toThrow(/node count 0 is not 1\.\.1000/);
  });

  it("defaults to one node of this machine less a stated reserve (100m, 1Gi)", () => {
    const c = defaultCluster({ cpus: 2, memoryBytes: 24 * Gi });
    expect(c.nodes).toEqual([{ name: "node-1", cpuMilli: 1900, memoryBytes: 23 * Gi }]);
    expect(c.description).toMatch(/2 CPU − 100m = 1900m/);
  });

  it("keeps a second 4.5Gi pod Pending on an 8Gi node: Insufficient memory", () => {
    const s = new Scheduler(parseNodes(["1x8cpu,8Gi"]).nodes);
    const r = { cpuMilli: 1000, memoryBytes: 4.5 * Gi };
    const first = s.schedule("a", r);
    expect("node" in first && first.node.spec.name).toBe("node-1");
    expect(s.schedule("b", r)).toEqual({
      reason: "0/1 nodes are available: 1 Insufficient memory.",
    });
    // Four 2Gi pods fill the 8Gi exactly; with the 4.5Gi one gone, they fit.
    if ("node" in first) s.release("a", first.node, r);
    const two = { cpuMilli: 1000, memoryBytes: 2 * Gi };
    for (const p of ["c", "d", "e", "f"]) expect("node" in s.schedule(p, two)).toBe(true);
    expect(s.schedule("g", two)).toEqual({
      reason: "0/1 nodes are available: 1 Insufficient memory.",
    });
  });

  it("counts every node's reasons, and spreads pods to the least allocated node", () => {
    const s = new Scheduler(parseNodes(["1x1cpu,16Gi", "1x8cpu,2Gi"]).nodes);
    expect(s.schedule("a", { cpuMilli: 2000, memoryBytes: 4 * Gi })).toEqual({
      reason: "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
    });
    const even = new Scheduler(parseNodes(["2x4cpu,8Gi"]).nodes);
    const r = { cpuMilli: 1000, memoryBytes: Gi };
    const names = ["a", "b"].map((p) => {
      const placed = even.schedule(p, r);
      return "node" in placed ? placed.node.spec.name : "";
    });
    expect(names).toEqual(["node-1", "node-2"]);
  });
});

describe("readiness", () => {
  it("a new pod takes traffic after start-up + successThreshold × period", () => {
    // baseline: successThreshold 3, period 5 → 1.8 + 15; strategy2: threshold 1 → 1.8 + 5.
    expect(readyDelaySeconds(1.8, loadStack("baseline").probes)).toBeCloseTo(16.8, 12);
    expect(readyDelaySeconds(1.8, loadStack("strategy2").probes)).toBeCloseTo(6.8, 12);
    // The startup probe allows 5 s × 24.
    expect(startupBudget(1.8, loadStack("baseline").probes)).toEqual({
      budgetSeconds: 120,
      fits: true,
    });
    expect(startupBudget(130, loadStack("baseline").probes).fits).toBe(false);
  });
});

describe("metrics-server", () => {
  it("reports a rate only from a pod's second scrape, over the window between them", () => {
    const m = new MetricsServer(15);
    m.scrape(0, [{ name: "a", cpuSeconds: 100, workingSetBytes: 1 }]);
    expect(m.pods.size).toBe(0);
    m.scrape(15, [{ name: "a", cpuSeconds: 106, workingSetBytes: 2 }]);
    // 6 CPU s over 15 s = 0.4 cores = 400m.
    expect(m.pods.get("a")).toEqual({
      cpuCores: 0.4,
      valueMilli: 400,
      workingSetBytes: 2,
      timestamp: 15,
      windowSeconds: 15,
    });
    // A gone pod leaves the API.
    m.scrape(30, []);
    expect(m.pods.size).toBe(0);
  });
});
