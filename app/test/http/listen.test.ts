// The real server process (src/server.ts through tsx) started on a port that is taken: it exits 1
// with one line on stderr naming the port and PORT= as the fix, and no stack trace.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { writeTinyLayersModel } from "../fixtures/models.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));

describe("listening", () => {
  it("a port in use: exit 1, one line naming PORT, the port and the fix", {
    timeout: 120_000,
  }, async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const { port } = taken.address() as { port: number };
    try {
      const model = await writeTinyLayersModel(await mkdtemp(path.join(tmpdir(), "listen-")));
      const child = spawn(process.execPath, ["--import", "tsx", path.join("src", "server.ts")], {
        cwd: APP_DIR,
        env: {
          ...process.env,
          PORT: String(port),
          ADMIN_PORT: "0",
          HOST: "127.0.0.1",
          MODEL_DIR: model,
          TFJS_BACKEND: "wasm",
          INFERENCE_THREADS: "1",
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const [code] = await once(child, "exit");
      expect(code).toBe(1);
      expect(stderr).toBe(
        `PORT ${port} is already in use on 127.0.0.1: stop what listens there, or choose another port with PORT=<port>\n`,
      );
    } finally {
      taken.close();
    }
  });
});
