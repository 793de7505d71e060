/**
 * Image benchmark (npm run bench:image; needs the engine of `npm run cluster -- images` and
 * DOCKER_HOST from `npm run -s cluster -- env`): per variant of app/Dockerfile (LIBTENSORFLOW
 * wheel = tfjs-node, none = WASM), built on the local node:24-slim stand-in (cached layers make a
 * rebuild quick), the image's size and where its bytes go, then the server in a container as the
 * Deployment runs it (--cpus 2 --memory 2g, UID 10001, read-only root): its RSS idle and under a
 * closed-loop load on /test (full path: decode, normalise, infer, rank). Prints a Markdown table.
 *
 *   npx tsx bench/image/run.ts [--seconds 30] [--users 4] [--variants wheel,none]
 *
 * LIBTENSORFLOW=download cannot be built here (tfjs-node's download host is unreachable): not
 * measured. A benchmark: run it with nothing else on the machine.
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLUSTER_ROOT } from "../../scripts/cluster/stack";
import { imageBuilder, imageBytes, localBuildArgs, runContainer } from "../../scripts/image/docker";
import { Load } from "../../test/cluster/helpers";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    users: { type: "string", default: "4" },
    variants: { type: "string", default: "wheel,none" },
  },
});
const seconds = Number(values.seconds);
const users = Number(values.users);
const LOCAL = localBuildArgs();
const MiB = 1024 * 1024;
const mib = (b: number) => (b / MiB).toFixed(0);

async function main() {
  const builder = imageBuilder();
  if (!builder.ok) throw new Error(builder.describe);
  const rows: string[] = [];
  const breakdown: string[] = [];
  for (const variant of values.variants.split(",")) {
    const tag = `food11-image-bench:${variant}`;
    const b = builder.build(join(CLUSTER_ROOT, "app"), tag, { ...LOCAL, LIBTENSORFLOW: variant });
    if (b.code !== 0) throw new Error(`build ${variant} failed:\n${b.tail}`);
    const c = await runContainer(tag, { memory: "2g", cpus: "2" });
    try {
      await new Promise((r) => setTimeout(r, 5_000));
      const idle = c.memory();
      const load = new Load(`${c.url}/test`, users, 0, seconds + 5);
      let peakRss = 0;
      let peakCgroup = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < seconds * 1000) {
        const m = c.memory();
        peakRss = Math.max(peakRss, m.rssBytes);
        peakCgroup = Math.max(peakCgroup, m.cgroupBytes);
        await new Promise((r) => setTimeout(r, 500));
      }
      await load.stop();
      const ok = load.outcomes.filter((o) => o.status === 200);
      const ms = ok.map((o) => o.ms).sort((a, z) => a - z);
      const pct = (p: number) =>
        ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? Number.NaN;
      const bytes = imageBytes(tag);
      const image = bytes.image ?? Number.NaN;
      rows.push(
        `| ${variant === "none" ? "WASM (LIBTENSORFLOW=none)" : `tfjs-node (LIBTENSORFLOW=${variant})`} | ${mib(image)} | ${mib(idle.rssBytes)} | ${mib(peakRss)} | ${mib(peakCgroup)} | ${(ok.length / seconds).toFixed(1)} | ${pct(0.5)} | ${pct(0.95)} | ${load.outcomes.length - ok.length} |`,
      );
      breakdown.push(
        `${variant}: ${Object.entries(bytes)
          .map(([p, b]) => `${p} ${mib(b)}`)
          .join(", ")} (MiB)`,
      );
    } finally {
      c.stop();
    }
  }
  console.log(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); container --cpus 2 --memory 2g; load: ${users} closed-loop users on /test for ${seconds} s; base ${LOCAL.NODE_IMAGE}; builder: ${builder.describe}.`,
  );
  console.log("");
  console.log(
    "| image | size MiB | idle RSS MiB | peak RSS under load MiB | peak cgroup memory MiB | req/s | p50 ms | p95 ms | failed |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(r);
  console.log("");
  for (const b of breakdown) console.log(`- ${b}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
