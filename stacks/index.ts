/**
 * The one place stack configuration is read and validated. Pure (no Pulumi runtime): the program
 * reads its config through `loadSettings()` in ./load, and tools read a stack file here.
 *
 * - `parseStackConfig(stack, raw)`: raw `food11:*` config to the typed {@link StackSettings} that
 *   the schema (./schema) outputs.
 * - `readStackFile(stack, file?)`: the same from `Pulumi.<stack>.yaml` plus the defaults that
 *   `Pulumi.yaml` declares, as the Pulumi engine merges them.
 * - `runtimeEnv(settings)`: the container's environment, with `INFERENCE_THREADS` and
 *   `NODE_OPTIONS` derived from the limits.
 * - `inferenceServiceArgs`, `importedModelArgs`, `inferenceImageArgs`, `ingressControllerArgs`,
 *   `traefikControllerArgs`: the settings composed with what else a component takes (paths
 *   resolved against the project root, another component's outputs), what index.ts passes and
 *   the tests construct with.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type {
  ImportedModelArgs,
  InferenceImageArgs,
  InferenceServiceArgs,
  IngressControllerArgs,
  TraefikControllerArgs,
} from "../components";
import { ADMIN_PORT, SERVER_PORT } from "../components/defaults";
import { runtimeBudgetEnv } from "../components/runtimeEnv";
import { PROJECT } from "./keys";
import type { StackSettings } from "./settings";
import { parseStackConfig, SECRET_PLACEHOLDER } from "./settings";

export {
  CONFIG_KEYS,
  type ConfigKey,
  configShape,
  flatConfigSchema,
  INFERENCE_ENGINES,
} from "./schema";
export {
  type ConfigProblem,
  type ImageSettings,
  parseStackConfig,
  SECRET_PLACEHOLDER,
  type StackSettings,
} from "./settings";

/** The project root (where Pulumi.yaml and the stack files live). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The names of the committed stacks, one per deployment strategy of the report. */
export const STACKS = ["baseline", "strategy1", "strategy2"] as const;

function scalar(value: unknown): unknown {
  if (value !== null && typeof value === "object" && "secure" in value) return SECRET_PLACEHOLDER;
  return value;
}

/**
 * The raw config of a stack as the engine would hand it to the program: the defaults declared in
 * `Pulumi.yaml` (`config: { food11:<key>: { default } }`), overridden by the stack file's
 * `config:` map. Keys keep their namespace; encrypted values become {@link SECRET_PLACEHOLDER}.
 */
export function readStackConfig(stack: string, file?: string): Record<string, unknown> {
  const stackFile = file ?? path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
  const projectFile = path.join(path.dirname(stackFile), "Pulumi.yaml");
  const merged: Record<string, unknown> = {};
  let project: { name?: string; config?: Record<string, unknown> } | undefined;
  try {
    project = parse(readFileSync(projectFile, "utf8")) ?? {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const projectName = project?.name ?? PROJECT;
  const full = (key: string) => (key.includes(":") ? key : `${projectName}:${key}`);
  for (const [key, declaration] of Object.entries(project?.config ?? {})) {
    if (declaration !== null && typeof declaration === "object") {
      const d = declaration as { default?: unknown; value?: unknown };
      if (d.default !== undefined) merged[full(key)] = d.default;
      else if (d.value !== undefined) merged[full(key)] = d.value;
    } else {
      merged[full(key)] = declaration;
    }
  }
  const stackDoc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  for (const [key, value] of Object.entries(stackDoc.config ?? {})) {
    merged[full(key)] = scalar(value);
  }
  return merged;
}

/**
 * Typed settings of a stack file (default `<root>/Pulumi.<stack>.yaml`), with `overrides` (full
 * keys, e.g. `{ "food11:inferenceEngine": "onnxruntime" }`) applied over it as `pulumi config set`
 * would: validated together.
 */
export function readStackFile(
  stack: string,
  file?: string,
  overrides: Record<string, unknown> = {},
): StackSettings {
  return parseStackConfig(stack, { ...readStackConfig(stack, file), ...overrides });
}

/**
 * The container environment for a stack, in a stable order: the listen addresses (the API's and
 * the admin listener's), the upload page, the model, `INFERENCE_THREADS` = ceil(limits.cpu),
 * `NODE_OPTIONS=--max-old-space-size=` half of limits.memory in MiB, and `SHUTDOWN_GRACE_SECONDS`.
 */
export function runtimeEnv(settings: StackSettings): Record<string, string> {
  return {
    PORT: String(SERVER_PORT),
    ADMIN_PORT: String(ADMIN_PORT),
    HOST: "0.0.0.0",
    UPLOAD_PAGE: String(settings.server.uploadPage),
    MODEL_NAME: settings.model.name,
    MODEL_VERSION: settings.model.version,
    ...(settings.model.url !== undefined ? { MODEL_URL: settings.model.url } : {}),
    // auto: the model's manifest.json decides (the server refuses an explicit one that disagrees)
    ...(settings.model.preprocess !== "auto" ? { PREPROCESS: settings.model.preprocess } : {}),
    TFJS_BACKEND: settings.model.backend,
    // INFERENCE_THREADS, NODE_OPTIONS
    ...runtimeBudgetEnv({
      cpuLimit: settings.resources.limits.cpu,
      memoryLimit: settings.resources.limits.memory,
    }),
    SHUTDOWN_GRACE_SECONDS: String(settings.server.shutdownGraceSeconds),
    SHUTDOWN_DELAY_SECONDS: String(settings.server.shutdownDelaySeconds),
    LOG_LEVEL: settings.server.logLevel,
  };
}

/** What InferenceService takes besides the settings: the image and the other components' parts. */
export interface ServiceWiring {
  /** The image reference to run (InferenceImage's `ref`). */
  image: pulumi.Input<string>;
  /** Where an installed Gateway answers (TraefikController's `gatewayAddress`), if known. */
  gatewayAddress?: pulumi.Input<string>;
  /** What the route waits for: an ingress controller installed with the stack. */
  ingressDependsOn?: pulumi.Resource[];
  /**
   * What the ServiceMonitor waits for: the program's check, at preview, that the cluster serves
   * the CRD (components/apiDiscovery.ts requireServiceMonitorCrd); it fails the preview when not.
   */
  serviceMonitorCrd?: Promise<void>;
}

/**
 * InferenceService's args for a stack: the settings as they are (InferenceServiceArgs picks the
 * ones it deploys), the stack as the instance, the container environment, and the wiring.
 */
export function inferenceServiceArgs(
  settings: StackSettings,
  wiring: ServiceWiring,
): InferenceServiceArgs {
  const route = settings.route;
  return {
    ...settings,
    instance: settings.stack,
    image: wiring.image,
    env: runtimeEnv(settings),
    ...(wiring.serviceMonitorCrd !== undefined
      ? { serviceMonitorCrdCheck: wiring.serviceMonitorCrd }
      : {}),
    ...(route.kind === "gateway"
      ? {
          gatewayRoute: {
            gateway: route.gateway,
            // A Gateway installed here has no address before Traefik publishes it; a render
            // reads no cluster.
            ...(wiring.gatewayAddress !== undefined ? { address: wiring.gatewayAddress } : {}),
            readGateway: settings.renderYamlToDirectory === undefined,
          },
        }
      : {}),
    ingressDependsOn: wiring.ingressDependsOn ?? [],
  };
}

/**
 * ImportedModel's args for a stack with food11:modelSource: its paths resolved against the project
 * root, the image's build context to place the verified directory in. Undefined without one, or
 * when nothing is built (rendering YAML; the schema refuses modelSource with a prebuilt image).
 */
export function importedModelArgs(settings: StackSettings): ImportedModelArgs | undefined {
  const { model, image } = settings;
  if (model.source === undefined || !("build" in image) || image.skipBuild) return undefined;
  return {
    source: path.resolve(PROJECT_ROOT, model.source),
    ...(model.labels !== undefined ? { labels: path.resolve(PROJECT_ROOT, model.labels) } : {}),
    preprocess: model.preprocess,
    context: path.resolve(PROJECT_ROOT, image.build.context),
    backend: model.backend,
  };
}

/**
 * InferenceImage's args for a stack: `settings.image` as it is, with an ImportedModel's directory
 * in the build context (its `modelDir`) baked in as the MODEL_DIR build arg when given.
 */
export function inferenceImageArgs(
  settings: StackSettings,
  modelDir?: pulumi.Input<string>,
): InferenceImageArgs {
  const image = settings.image;
  if (modelDir === undefined || !("build" in image)) return image;
  return {
    ...image,
    build: { ...image.build, args: { ...image.build.args, MODEL_DIR: modelDir } },
  };
}

/** IngressController's args for a stack (food11:ingressController ingress-nginx). */
export function ingressControllerArgs(settings: StackSettings): IngressControllerArgs {
  return { ...settings.ingressController, className: settings.ingress.className };
}

/** TraefikController's args for a stack (food11:ingressController traefik): its route's provider. */
export function traefikControllerArgs(settings: StackSettings): TraefikControllerArgs {
  const route = settings.route;
  return {
    ...settings.ingressController,
    ...(route.kind === "gateway"
      ? { gateway: { name: route.gateway.name } }
      : { ingressNginxClassName: settings.ingress.className }),
  };
}
