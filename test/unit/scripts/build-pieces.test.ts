/**
 * scripts/e2e/build.sh's pieces as `--estimate` reads them (CI's `fits` asks it what a cold build
 * of a suite's missing pieces costs): `cluster` stands for the real-pods cluster's pieces, alone
 * or beside others, and each piece is counted once, in the order first named. An empty cache
 * (FOOD11_E2E_CACHE, a scratch folder), so every piece is missing and nothing is built.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../../stacks";

const BUILD = join(PROJECT_ROOT, "scripts", "e2e", "build.sh");
const CACHE = mkdtempSync(join(tmpdir(), "food11-e2e-estimate-"));
/** The script exits 77 before reading its pieces when there is no Go (or too old a Go). */
const hasGo = spawnSync("go", ["version"]).status === 0;

function estimate(...pieces: string[]): string {
  return execFileSync("bash", [BUILD, "--estimate", ...pieces], {
    env: { ...process.env, FOOD11_E2E_CACHE: CACHE },
    encoding: "utf8",
  }).trim();
}

const CLUSTER =
  "kube kubectl etcd kwok kubelet metrics-server traefik pulumi langhost provider docker-provider";

afterAll(() => rmSync(CACHE, { recursive: true, force: true }));

describe.skipIf(!hasGo)("build.sh --estimate: the pieces of a cold build", () => {
  it("`cluster` alone: the real-pods cluster's pieces, control plane first", () => {
    expect(estimate("cluster")).toBe(`3950 ${CLUSTER}`);
  });

  it("`cluster kube-score`: the cluster's pieces and kube-score, as .ci/run's suites need them", () => {
    expect(estimate("cluster", "kube-score")).toBe(`4070 ${CLUSTER} kube-score`);
  });

  it("a piece named twice, or inside `cluster` too, is counted once", () => {
    expect(estimate("kube", "cluster", "kube")).toBe(`3950 ${CLUSTER}`);
    expect(estimate("kubectl", "kubectl")).toBe("60 kubectl");
  });

  it("no piece: the kwok e2e's (the CLI brings its language host)", () => {
    expect(estimate()).toBe("2390 pulumi langhost provider kube kubectl etcd kwok");
  });
});
