import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";

export interface TestServer {
  server: Server;
  port: number;
  url: string;
  requests: string[];
  close: () => Promise<void>;
}

/** A tiny HTTP server on 127.0.0.1 on a free port; `handler` gets the 1-based request number. */
export async function startServer(
  handler: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(requests.length, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * startServer for a file's tests, each server closed after the test that started it (call it
 * once, at the file's top level).
 */
export function serversClosedAfterEach(): typeof startServer {
  const open: TestServer[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  return async (handler) => {
    const s = await startServer(handler);
    open.push(s);
    return s;
  };
}

/**
 * A maker of temporary folders (`prefix` + random, under the OS's tmp) for a file's tests, each
 * removed after the test that made it (call it once, at the file's top level).
 */
export function tempDirsRemovedAfterEach(): (prefix: string) => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
  });
  return async (prefix) => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = await startServer(() => undefined);
  await s.close();
  return s.port;
}

/** `text` contains each of `parts`. */
export function expectContains(text: string, parts: readonly string[]): void {
  for (const part of parts) expect(text).toContain(part);
}

// What vega drew: a rendered chart's SVG, read by the aria-labels vega writes.

/** The aria-labels vega gives the rendered elements of one role ("legend", "axis", "title"...). */
export function ariaLabels(svg: string, role: string): string[] {
  return [
    ...svg.matchAll(new RegExp(`aria-roledescription="${role}" aria-label="([^"]*)"`, "g")),
  ].map((m) => m[1] ?? "");
}

/** The rendered marks of one kind ("point", "bar", "rule mark"...): label, paint and shape. */
export function marks(
  svg: string,
  kind: string,
): { label: string; stroke?: string; fill?: string; shape?: string; dash?: string }[] {
  const tags = svg.match(new RegExp(`<[^>]*aria-roledescription="${kind}"[^>]*>`, "g")) ?? [];
  return tags.map((tag) => ({
    label: /aria-label="([^"]*)"/.exec(tag)?.[1] ?? "",
    stroke: /stroke="([^"]*)"/.exec(tag)?.[1],
    fill: /fill="([^"]*)"/.exec(tag)?.[1],
    shape: /\sd="([^"]*)"/.exec(tag)?.[1],
    dash: /stroke-dasharray="([^"]*)"/.exec(tag)?.[1],
  }));
}

/** The text of an axis' labels ("X" or "Y": the first such axis). */
export function axisLabels(svg: string, axis: "X" | "Y"): string[] {
  const group = svg.slice(svg.indexOf(`aria-label="${axis}-axis`));
  const labels = group.slice(0, group.indexOf("aria-roledescription=", 1));
  return [...labels.matchAll(/font-size="11px"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? "");
}
