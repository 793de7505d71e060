/**
 * A bounded closed-loop load on loopback that records every request's outcome (status, or the
 * transport error) with its time: what the real-pods suite (test/cluster) holds on a stack while it
 * kills a pod or rolls a strategy out, and what `npm run bench:image` loads a container with.
 */
import { Agent, request } from "./http.js";

/** One request's outcome in a load run. */
export interface Outcome {
  /** ms since the load started. */
  at: number;
  status: number;
  /** Transport error (connection refused/reset, timeout), when there was no status. */
  error?: string;
  ms: number;
}

/** A bounded closed-loop load: `users` loops, each request then `thinkMs` of rest. */
export class Load {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly started = Date.now();
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4_000 });

  constructor(
    private readonly url: string,
    users: number,
    private readonly thinkMs: number,
    /** Hard stop: the load ends by itself after this long. */
    maxSeconds: number,
  ) {
    const host = new URL(url).hostname;
    if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`not loopback: ${url}`);
    for (let i = 0; i < users; i++) this.loops.push(this.loop());
    setTimeout(() => {
      this.stopped = true;
    }, maxSeconds * 1000).unref();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const t0 = Date.now();
      try {
        const res = await request(this.url, {
          dispatcher: this.agent,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.text();
        this.outcomes.push({ at: t0 - this.started, status: res.statusCode, ms: Date.now() - t0 });
      } catch (err) {
        this.outcomes.push({
          at: t0 - this.started,
          status: 0,
          error: (err as { code?: string }).code ?? String(err),
          ms: Date.now() - t0,
        });
      }
      if (this.thinkMs > 0) await new Promise((r) => setTimeout(r, this.thinkMs));
    }
  }

  /** ms since start. */
  now(): number {
    return Date.now() - this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    await this.agent.close();
  }

  /** Outcomes in [fromMs, toMs). */
  window(fromMs = 0, toMs = Number.POSITIVE_INFINITY): Outcome[] {
    return this.outcomes.filter((o) => o.at >= fromMs && o.at < toMs);
  }
}

export function failures(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.status < 200 || o.status >= 300);
}

/** "n requests, k failed (codes)" for logs and messages. */
export function describeOutcomes(outcomes: Outcome[]): string {
  const f = failures(outcomes);
  const codes = new Map<string, number>();
  for (const o of f) {
    const k = o.error ?? String(o.status);
    codes.set(k, (codes.get(k) ?? 0) + 1);
  }
  const detail = [...codes].map(([k, n]) => `${k}×${n}`).join(", ");
  return `${outcomes.length} requests, ${f.length} failed${detail ? ` (${detail})` : ""}`;
}
