import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
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
