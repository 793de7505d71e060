/**
 * The Food-11 classifier on Kubernetes, one stack per deployment strategy
 * (Pulumi.baseline.yaml, Pulumi.strategy1.yaml, Pulumi.strategy2.yaml).
 *
 * Thin on purpose: read the stack's settings (validated before any resource is registered),
 * compose the components with the args stacks/ resolves from them, export what the measurement
 * tools and people need.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ImportedModel,
  InferenceImage,
  InferenceService,
  IngressController,
  TraefikController,
} from "./components";
import { requireServiceMonitorCrd } from "./components/apiDiscovery";
import {
  importedModelArgs,
  inferenceImageArgs,
  inferenceServiceArgs,
  ingressControllerArgs,
  traefikControllerArgs,
} from "./stacks";
import { loadSettings } from "./stacks/load";

const settings = loadSettings();
const name = "food11";

// Rendering: every Kubernetes object goes to YAML files through this provider; nothing is built.
// kubeconfig "": @pulumi/kubernetes would default it to $KUBECONFIG, which the provider rejects
// beside renderYamlToDirectory (a render must work in a shell that has a cluster configured).
const render = settings.renderYamlToDirectory;
const providers: pulumi.ProviderResource[] =
  render !== undefined
    ? [new k8s.Provider(`${name}-render`, { renderYamlToDirectory: render, kubeconfig: "" })]
    : [];

const controller =
  settings.ingressController.kind === "ingress-nginx"
    ? new IngressController(name, ingressControllerArgs(settings), { providers })
    : settings.ingressController.kind === "traefik"
      ? new TraefikController(name, traefikControllerArgs(settings), { providers })
      : undefined;

// food11:modelSource: imported and verified here, before the build, then baked in as MODEL_DIR.
const modelArgs = importedModelArgs(settings);
const importedModel = modelArgs ? new ImportedModel(name, modelArgs) : undefined;

const inferenceImage = new InferenceImage(
  name,
  inferenceImageArgs(settings, importedModel?.modelDir),
);

// food11:monitoring servicemonitor: at preview, ask the cluster (API discovery, with the Kubernetes
// provider's kubeconfig and context) whether it serves the ServiceMonitor CRD before registering
// one: a clear error at once, where the provider would retry for a minute first.
const kubernetesConfig = new pulumi.Config("kubernetes");
const serviceMonitorCrd =
  settings.monitoring.scrape === "servicemonitor" &&
  render === undefined &&
  pulumi.runtime.isDryRun()
    ? requireServiceMonitorCrd(settings.stack, {
        kubeconfig: kubernetesConfig.get("kubeconfig"),
        context: kubernetesConfig.get("context"),
      })
    : undefined;

const inference = new InferenceService(
  name,
  inferenceServiceArgs(settings, {
    image: inferenceImage.ref,
    gatewayAddress: controller instanceof TraefikController ? controller.gatewayAddress : undefined,
    ingressDependsOn: controller !== undefined ? [controller] : [],
    serviceMonitorCrd,
  }),
  { providers },
);

/**
 * `outputs` without the ones this stack does not have (no Ingress with an HTTPRoute, ...): an
 * undefined one would warn on every `pulumi up`.
 */
function present<T extends Record<string, unknown>>(outputs: T) {
  const entries = Object.entries(outputs).filter(([, value]) => value !== undefined);
  return Object.fromEntries(entries) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

const outputs = present({
  /** Where the classifier answers (Ingress host, or the ingress address, or localhost). */
  url: inference.url,
  /** The image reference deployed: `repo@sha256:<digest>` when built here. */
  image: inferenceImage.ref,
  namespace: inference.namespace,
  deploymentName: inference.deploymentName,
  serviceName: inference.serviceName,
  hpaName: inference.hpaName,
  /** The Ingress (food11:route ingress) or the HTTPRoute (food11:route gateway). */
  ingressName: inference.ingressName,
  httpRouteName: inference.httpRouteName,
  pdbName: inference.pdbName,
  /** The NetworkPolicy of the pods (unset with food11:networkPolicy false). */
  networkPolicyName: inference.networkPolicyName,
  /** The ServiceMonitor (food11:monitoring servicemonitor). */
  serviceMonitorName: inference.serviceMonitorName,
  /** The ConfigMap with the Grafana dashboard (food11:grafanaDashboard true). */
  dashboardName: inference.dashboardName,
  /** Selector of the pods, e.g. `kubectl get pods -n <namespace> -l <labelSelector>`. */
  labelSelector: inference.labelSelector,
  /** food11:modelSource's import: the formats baked in and their verification against Keras. */
  modelVerification: importedModel?.verification,
});
export = outputs;
