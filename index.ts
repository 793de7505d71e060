/**
 * The Food-11 classifier on Kubernetes, one stack per deployment strategy
 * (Pulumi.baseline.yaml, Pulumi.strategy1.yaml, Pulumi.strategy2.yaml).
 *
 * Thin on purpose: read the stack's settings (validated before any resource is registered),
 * compose the components, export what the measurement tools and people need.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  InferenceImage,
  InferenceService,
  IngressController,
  TraefikController,
} from "./components";
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

const route = settings.route;
const controller =
  settings.ingressController.kind === "ingress-nginx"
    ? new IngressController(
        name,
        {
          namespace: settings.ingressController.namespace,
          className: settings.ingress.className,
          serviceType: settings.ingressController.serviceType,
        },
        { providers },
      )
    : settings.ingressController.kind === "traefik"
      ? new TraefikController(
          name,
          {
            namespace: settings.ingressController.namespace,
            serviceType: settings.ingressController.serviceType,
            ...(route.kind === "gateway"
              ? { gateway: { name: route.gateway.name } }
              : { ingressNginxClassName: settings.ingress.className }),
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
    ...(route.kind === "gateway"
      ? {
          gatewayRoute: {
            gateway: route.gateway,
            // A Gateway installed here has no address before Traefik publishes it; a render reads
            // no cluster.
            ...(controller instanceof TraefikController && controller.gatewayAddress
              ? { address: controller.gatewayAddress }
              : {}),
            readGateway: render === undefined,
          },
        }
      : {}),
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
/** The Ingress (food11:route ingress) or the HTTPRoute (food11:route gateway). */
export const ingressName = inference.ingressName;
export const httpRouteName = inference.httpRouteName;
export const pdbName = inference.pdbName;
/** The NetworkPolicy of the pods (unset with food11:networkPolicy false). */
export const networkPolicyName = inference.networkPolicyName;
/** Selector of the pods, e.g. `kubectl get pods -n <namespace> -l <labelSelector>`. */
export const labelSelector = inference.labelSelector;
