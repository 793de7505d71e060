/**
 * Each ready replica: a processor-sharing queue whose total completion rate depends on how many
 * requests it holds, μ(n) = the capacity profile's throughput at concurrency n (interpolated,
 * constant beyond the highest measured level). Every request in the replica is served at
 * μ(n)/n: the server batches and threads its requests, and none waits behind another in a FIFO
 * it could see. A replica held at n requests by a closed loop without think time completes μ(n)
 * per second with a mean response time n/μ(n): exactly what was measured at that level.
 *
 * Implementation: a virtual clock V (work received by each request so far, in requests) advances
 * at μ(n)/n; a request arriving at V finishes when V reaches V + 1. Tags only grow, so the
 * requests finish in arrival order and the queue is an array.
 */
export class ReplicaQueue<T = unknown> {
  private v = 0;
  private t: number;
  private readonly jobs: { tag: number; item: T; at: number }[] = [];
  /** CPU seconds consumed by requests (idle CPU is the caller's). */
  cpuSeconds = 0;
  /** ∫ n dt: the mean number of requests in flight over a window is its difference / window. */
  inFlightIntegral = 0;
  /** Requests completed. */
  completed = 0;

  constructor(
    /** Completion rate with n requests in the replica (requests/s). */
    private rate: (n: number) => number,
    /** CPU seconds per request with n in the replica. */
    private cpuPerRequest: (n: number) => number,
    /** Usable cores: CPU use is capped here. */
    private cores: number,
    start = 0,
  ) {
    this.t = start;
  }

  get size(): number {
    return this.jobs.length;
  }

  get now(): number {
    return this.t;
  }

  /** A new node share or limit: the rate from now on. */
  setCapacity(rate: (n: number) => number, cpuPerRequest: (n: number) => number, cores: number) {
    this.rate = rate;
    this.cpuPerRequest = cpuPerRequest;
    this.cores = cores;
  }

  /** Serve until `to` (no completion may fall before it: call {@link nextCompletion} first). */
  advance(to: number): void {
    const dt = to - this.t;
    if (dt <= 0) return;
    const n = this.jobs.length;
    if (n > 0) {
      const mu = this.rate(n);
      this.v += (mu / n) * dt;
      this.cpuSeconds += Math.min(this.cores, mu * this.cpuPerRequest(n)) * dt;
      this.inFlightIntegral += n * dt;
    }
    this.t = to;
  }

  /** When the oldest request finishes at the current rate; Infinity when empty. */
  nextCompletion(): number {
    const first = this.jobs[0];
    if (!first) return Number.POSITIVE_INFINITY;
    const n = this.jobs.length;
    const perJob = this.rate(n) / n;
    if (!(perJob > 0)) return Number.POSITIVE_INFINITY;
    return this.t + Math.max(0, first.tag - this.v) / perJob;
  }

  arrive(item: T): void {
    this.jobs.push({ tag: this.v + 1, item, at: this.t });
  }

  /** Remove the finished request (at the time of {@link nextCompletion}, after advancing to it). */
  complete(): { item: T; arrivedAt: number } {
    const job = this.jobs.shift();
    if (!job) throw new Error("ReplicaQueue.complete on an empty queue");
    this.completed++;
    return { item: job.item, arrivedAt: job.at };
  }
}
