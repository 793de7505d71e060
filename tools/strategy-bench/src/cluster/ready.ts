/** A run's ready stage: the stack's route answers through the ingress. */
import { setTimeout as sleep } from "node:timers/promises";
import { getStatus } from "../http.js";

/**
 * Until `${url}test` answers 200 through the ingress (Traefik picks the Ingress up and a pod is
 * ready): the route carries the API's paths only, /readyz is the admin port's.
 */
export async function waitIngress(
  url: string,
  seconds: number,
  signal?: AbortSignal,
): Promise<number> {
  const t0 = Date.now();
  let last = "no answer";
  while (Date.now() - t0 < seconds * 1000) {
    if (signal?.aborted) throw new Error("interrupted");
    last = await getStatus(`${url}test`, 30_000);
    if (last === "200") return (Date.now() - t0) / 1000;
    await sleep(1000);
  }
  throw new Error(`${url}test did not answer 200 within ${seconds} s (last: ${last})`);
}
