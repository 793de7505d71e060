/**
 * The one HTTP client of the root package (tools/, bench/, scripts/, test/): the pinned npm
 * `undici` (its `request`, its `fetch`, its `FormData`), always with a dispatcher of that same
 * undici. Every other
 * file imports these from here (biome.json refuses `undici` imports elsewhere there, and the global
 * `fetch` and `FormData`).
 *
 * Why one module: Node ships its own copy of undici behind the global `fetch`/`FormData`, and both
 * copies share one global dispatcher (`Symbol.for('undici.globalDispatcher.1')`) that the first to
 * load sets. Once Node's copy has set it (loading @kubernetes/client-node does), npm undici's
 * `request` without a dispatcher sends through Node's Agent, which cannot encode npm undici's
 * `FormData`: `action is not a function`, and `strategy-bench accuracy` scored nothing (issue 26).
 * So here no request goes through the global dispatcher: one-off requests take `agent` below, and
 * clients that manage their connections (the load test's Pool, a proxy's Agent) use this undici's
 * `Pool`/`Agent`. The server in app/ is its own package and uses Node's global fetch only.
 */
import { Agent, FormData, Pool, fetch as undiciFetch, request as undiciRequest } from "undici";

export type { Dispatcher } from "undici";
export { Agent, FormData, Pool };

/** The dispatcher of one-off requests; idle keep-alive sockets do not hold the process open. */
const agent = new Agent({ keepAliveTimeout: 4_000 });

/** undici's `request`, through `options.dispatcher` if given (an Agent or Pool of this module), else `agent`. */
export function request(
  url: string | URL,
  options: NonNullable<Parameters<typeof undiciRequest>[1]> = {},
): ReturnType<typeof undiciRequest> {
  return undiciRequest(url, { ...options, dispatcher: options.dispatcher ?? agent });
}

/** undici's `fetch` (with undici's `FormData` for multipart), through `init.dispatcher` if given, else `agent`. */
export function fetch(
  input: Parameters<typeof undiciFetch>[0],
  init: NonNullable<Parameters<typeof undiciFetch>[1]> = {},
): ReturnType<typeof undiciFetch> {
  return undiciFetch(input, { ...init, dispatcher: init.dispatcher ?? agent });
}

/**
 * One GET of `url`, its body discarded: "200", another status ("HTTP 503"), or why no answer came
 * (refused, timed out after `timeoutMs`). The readiness waits poll with it.
 */
export async function getStatus(url: string | URL, timeoutMs: number): Promise<string> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode === 200 ? "200" : `HTTP ${res.statusCode}`;
  } catch (err) {
    return (err as Error).message;
  }
}
