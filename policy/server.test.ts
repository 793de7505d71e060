// The pack as the Pulumi engine runs it: the CLI executes policy/analyzer (the form the e2e's CLI
// uses; a full distribution's language host runs the same @pulumi/pulumi policy-pack runner on
// policy/), which loads the pack with ts-node and serves the Analyzer gRPC service on a loopback
// port, printing the port; this test is the engine's side of that conversation.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  AnalyzeRequest,
  type AnalyzeResponse,
  type AnalyzerInfo,
  AnalyzerResourceOptions,
  ConfigureAnalyzerRequest,
  EnforcementLevel,
  PolicyConfig,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goodDeployment, UNKNOWN_STRING } from "./testing";

const ROOT = resolve(__dirname, "..");
const PACK = join(ROOT, "policy");
const ANALYZER = join(PACK, "analyzer");
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

let child: ChildProcess;
let client: AnalyzerClient;
let stderr = "";

/** Starts the pack like the engine does (`policy/analyzer <engine address>`, cwd = the program) and reads its port. */
function startPack(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    child = spawn(ANALYZER, ["127.0.0.1:1"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split("\n")[0]?.trim() ?? "";
      if (stdout.includes("\n") && /^\d+$/.test(line)) resolvePort(Number(line));
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stdout}${stderr}`)));
  });
}

function call<Req, Res>(
  method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((ok, fail) => {
    method.call(client, req, (err, res) => (err ? fail(err) : ok(res)));
  });
}

function analyze(type: string, props: Record<string, unknown>, name = "classifier") {
  const req = new AnalyzeRequest()
    .setType(type)
    .setName(name)
    .setUrn(`urn:pulumi:test::food11::${type}::${name}`)
    .setProperties(Struct.fromJavaScript(props as never))
    .setOptions(new AnalyzerResourceOptions());
  return call<AnalyzeRequest, AnalyzeResponse>(client.analyze, req).then((res) =>
    res.getDiagnosticsList().map((d) => ({
      policy: d.getPolicyname(),
      level: d.getEnforcementlevel(),
      // The server sends "<policy description>\n<violation>"; keep the violation.
      message: d.getMessage().startsWith(`${d.getDescription()}\n`)
        ? d.getMessage().slice(d.getDescription().length + 1)
        : d.getMessage(),
    })),
  );
}

beforeAll(async () => {
  const port = await startPack();
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  if (child && child.exitCode === null) {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
  }
});

describe("the policy pack served by Pulumi's policy runner", () => {
  it("announces its name, version and each policy's enforcement level", async () => {
    const info = await call<Empty, AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    expect(info.getName()).toBe("food11-guardrails");
    expect(info.getVersion()).toBe("0.1.0");
    expect(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()])).toEqual([
      ["container-resources", EnforcementLevel.MANDATORY],
      ["container-ephemeral-storage", EnforcementLevel.MANDATORY],
      ["readiness-probe", EnforcementLevel.MANDATORY],
      ["hpa-bounds", EnforcementLevel.MANDATORY],
      ["image-not-latest", EnforcementLevel.MANDATORY],
      ["image-pinned-by-digest", EnforcementLevel.MANDATORY],
      ["pod-security-restricted", EnforcementLevel.MANDATORY],
      ["ingress-class", EnforcementLevel.ADVISORY],
      ["httproute-parent", EnforcementLevel.ADVISORY],
      ["network-policy", EnforcementLevel.MANDATORY],
      ["admin-not-routed", EnforcementLevel.MANDATORY],
    ]);
  });

  it("passes the compliant Deployment", async () => {
    expect(await analyze(DEPLOYMENT, goodDeployment())).toEqual([]);
  });

  it("refuses a bad Deployment with mandatory diagnostics", async () => {
    const bad = goodDeployment() as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    const c = bad.spec.template.spec.containers[0] as Record<string, unknown>;
    c.image = "food11-classifier:latest";
    c.resources = {
      requests: { cpu: "2", memory: "1Gi", "ephemeral-storage": "64Mi" },
      limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "512Mi" },
    };
    delete c.readinessProbe;
    c.securityContext = { privileged: true };
    const diags = await analyze(DEPLOYMENT, bad);
    const p = "Deployment food11-classifier: container classifier";
    expect(diags).toEqual([
      {
        policy: "container-resources",
        level: EnforcementLevel.MANDATORY,
        message: `${p} cpu request 2 exceeds its limit 1`,
      },
      {
        policy: "readiness-probe",
        level: EnforcementLevel.MANDATORY,
        message: `${p} has no readinessProbe`,
      },
      {
        policy: "image-not-latest",
        level: EnforcementLevel.MANDATORY,
        message: `${p} image "food11-classifier:latest" uses the moving tag ":latest"`,
      },
      {
        policy: "image-pinned-by-digest",
        level: EnforcementLevel.MANDATORY,
        message: `${p} image "food11-classifier:latest" is not pinned by digest (expected <image>@sha256:<64 hex>)`,
      },
      {
        policy: "pod-security-restricted",
        level: EnforcementLevel.MANDATORY,
        message: `${p} is privileged`,
      },
      {
        policy: "pod-security-restricted",
        level: EnforcementLevel.MANDATORY,
        message: `${p} must set securityContext.allowPrivilegeEscalation to false`,
      },
      {
        policy: "pod-security-restricted",
        level: EnforcementLevel.MANDATORY,
        message: `${p} must drop ALL capabilities`,
      },
    ]);
  });

  it("warns (advisory) instead of judging an image unknown during preview", async () => {
    const d = goodDeployment() as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    (d.spec.template.spec.containers[0] as Record<string, unknown>).image = UNKNOWN_STRING;
    const diags = await analyze(DEPLOYMENT, d);
    expect(diags.map((x) => [x.policy, x.level])).toEqual([
      ["image-not-latest", EnforcementLevel.ADVISORY],
      ["image-pinned-by-digest", EnforcementLevel.ADVISORY],
    ]);
    expect(diags[0]?.message).toBe(
      "can't run policy 'image-not-latest' from policy pack 'food11-guardrails@v0.1.0' during preview: " +
        "string value at .spec.template.spec.containers.0.image can't be known during preview",
    );
  });

  it("lowers image-pinned-by-digest to advisory under policy/config/local.json", async () => {
    const local = JSON.parse(readFileSync(join(PACK, "config/local.json"), "utf8")) as Record<
      string,
      { enforcementLevel: string }
    >;
    const req = new ConfigureAnalyzerRequest();
    for (const [name, cfg] of Object.entries(local)) {
      expect(cfg.enforcementLevel).toBe("advisory");
      req
        .getPolicyconfigMap()
        .set(
          name,
          new PolicyConfig()
            .setEnforcementlevel(EnforcementLevel.ADVISORY)
            .setProperties(new Struct()),
        );
    }
    await call<ConfigureAnalyzerRequest, Empty>(client.configure, req);
    const d = goodDeployment() as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    (d.spec.template.spec.containers[0] as Record<string, unknown>).image =
      "localhost:5001/food11-classifier:0.1.0";
    expect((await analyze(DEPLOYMENT, d)).map((x) => [x.policy, x.level])).toEqual([
      ["image-pinned-by-digest", EnforcementLevel.ADVISORY],
    ]);
  });
});
