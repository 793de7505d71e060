/**
 * food11:monitoring servicemonitor's check at preview (components/apiDiscovery.ts), against a
 * stand-in API server over real HTTP on 127.0.0.1 that answers discovery as kube-apiserver does:
 * the group/version's resource list, or 404 for a group it does not serve.
 */
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import {
  discover,
  requireServiceMonitorCrd,
  SERVICE_MONITOR,
} from "../../../components/apiDiscovery";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * An API server whose /apis/monitoring.coreos.com/v1 answers `status` with `resources`, closed
 * when the test finishes.
 */
async function apiServer(status: number, resources: string[] = []): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === "/apis/monitoring.coreos.com/v1" && status === 200) {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: "monitoring.coreos.com/v1",
          resources: resources.map((name) => ({
            name,
            singularName: name.replace(/s$/, ""),
            namespaced: true,
            kind: name,
            verbs: ["get", "list"],
          })),
        }),
      );
      return;
    }
    res.statusCode = status === 200 ? 404 : status;
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: res.statusCode }),
    );
  });
  onTestFinished(() => {
    server.close();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

/**
 * A kubeconfig with two contexts: `good` at `url`, `other` at a port nothing listens on (plain
 * HTTP, which the client takes only with insecure-skip-tls-verify).
 */
function kubeconfig(url: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: good
    cluster: { server: "${url}", insecure-skip-tls-verify: true }
  - name: other
    cluster: { server: "http://127.0.0.1:9", insecure-skip-tls-verify: true }
users:
  - name: u
    user: { token: t }
contexts:
  - name: good
    context: { cluster: good, user: u }
  - name: other
    context: { cluster: other, user: u }
current-context: other
`;
}

const MISSING =
  'Invalid configuration for stack "strategy1": food11:monitoring = "servicemonitor": the cluster does not serve monitoring.coreos.com/v1 ServiceMonitor (the Prometheus Operator\'s CRD is not installed). Fix: install the Prometheus Operator (e.g. the kube-prometheus-stack Helm chart), or pulumi config set food11:monitoring annotations --stack strategy1 (prometheus.io/* pod annotations) or none';

describe("the ServiceMonitor CRD check", () => {
  it("passes when discovery lists servicemonitors (kubeconfig content, its named context)", async () => {
    const config = kubeconfig(await apiServer(200, ["podmonitors", "servicemonitors"]));
    expect(await discover(SERVICE_MONITOR, { kubeconfig: config, context: "good" })).toEqual({
      served: true,
    });
    await expect(
      requireServiceMonitorCrd("strategy1", { kubeconfig: config, context: "good" }),
    ).resolves.toBeUndefined();
  });

  it("fails with the key, the stack and the fix when the group is not served (404)", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "kubeconfig-")), "config");
    writeFileSync(file, kubeconfig(await apiServer(404)));
    const check = requireServiceMonitorCrd("strategy1", { kubeconfig: file, context: "good" });
    await expect(check).rejects.toThrow(new pulumi.RunError(MISSING));
    await expect(check).rejects.toBeInstanceOf(pulumi.RunError);
  });

  it("fails when the group is served without servicemonitors", async () => {
    const config = kubeconfig(await apiServer(200, ["podmonitors", "prometheusrules"]));
    await expect(
      requireServiceMonitorCrd("strategy1", { kubeconfig: config, context: "good" }),
    ).rejects.toThrow(MISSING);
  });

  it("leaves a cluster it cannot ask to the provider, with a warning", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const config = kubeconfig(await apiServer(403));
    await expect(
      requireServiceMonitorCrd("strategy1", { kubeconfig: config, context: "good" }),
    ).resolves.toBeUndefined();
    // the current context (`other`): nothing listens there
    await expect(
      requireServiceMonitorCrd("strategy1", { kubeconfig: config }),
    ).resolves.toBeUndefined();
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(
        /^food11:monitoring servicemonitor: could not ask the cluster whether it serves monitoring\.coreos\.com\/v1 ServiceMonitor \(http:\/\/127\.0\.0\.1:\d+: HTTP 403\); the Kubernetes provider will tell$/,
      ),
      expect.stringMatching(/could not ask the cluster .* \(.*ECONNREFUSED.*\)/),
    ]);
  });
});
