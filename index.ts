/**
 * The Food-11 classifier on Kubernetes, one stack per deployment strategy
 * (Pulumi.baseline.yaml, Pulumi.strategy1.yaml, Pulumi.strategy2.yaml).
 *
 * Thin on purpose: read the stack's settings (validated before any resource is registered),
 * compose the components, export what the measurement tools and people need.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { InferenceImage, InferenceService, IngressController } from "./components";
import { runtimeEnv } from "./stacks";
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

const controller = settings.ingressController.install
  ? new IngressController(
      name,
      {
        namespace: settings.ingressController.namespace,
        className: settings.ingress.className,
        serviceType: settings.ingressController.serviceType,
      },
      { providers },
    )
  : undefined;

const inferenceImage = new InferenceImage(
  name,
  settings.image.source === "build"
    ? {
        build: {
          imageName: settings.image.imageName,
          context: settings.image.context,
          dockerfile: settings.image.dockerfile,
          platform: settings.image.platform,
          args: settings.image.args,
          registryServer: settings.image.registryServer,
          ...(settings.image.username !== undefined && settings.image.password !== undefined
            ? { username: settings.image.username, password: settings.image.password }
            : {}),
        },
        skipBuild: render !== undefined,
      }
    : { ref: settings.image.ref },
);

const inference = new InferenceService(
  name,
  {
    instance: settings.stack,
    namespace: settings.namespace.name,
    createNamespace: settings.namespace.create,
    image: inferenceImage.ref,
    env: runtimeEnv(settings),
    resources: settings.resources,
    autoscaling: settings.autoscaling,
    probes: settings.probes,
    ingress: settings.ingress,
    shutdownGraceSeconds: settings.server.shutdownGraceSeconds,
    pdbMaxUnavailable: settings.availability.pdbMaxUnavailable,
    runAsUser: settings.security.runAsUser,
    ...(settings.networkPolicy !== undefined ? { networkPolicy: settings.networkPolicy } : {}),
    ingressDependsOn: controller !== undefined ? [controller] : [],
  },
  { providers },
);

/** Where the classifier answers (Ingress host, or the ingress address, or localhost). */
export const url = inference.url;
/** The image reference deployed: `repo@sha256:<digest>` when built here. */
export const image = inferenceImage.ref;
export const namespace = inference.namespace;
export const deploymentName = inference.deploymentName;
export const serviceName = inference.serviceName;
export const hpaName = inference.hpaName;
export const ingressName = inference.ingressName;
export const pdbName = inference.pdbName;
/** The NetworkPolicy of the pods (unset with food11:networkPolicy false). */
export const networkPolicyName = inference.networkPolicyName;
/** Selector of the pods, e.g. `kubectl get pods -n <namespace> -l <labelSelector>`. */
export const labelSelector = inference.labelSelector;
