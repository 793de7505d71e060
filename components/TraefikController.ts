import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { keyViolation, type StackSettings } from "../stacks/schema";
import { ArgsCheck } from "./contract";
import { DEFAULTS, GATEWAY_API_VERSION } from "./defaults";

/** The type token of {@link TraefikController}. */
const TYPE = "food11:ingress:TraefikController";

/**
 * Arguments of {@link TraefikController} (stacks/index.ts: traefikControllerArgs): the stack's
 * `ingressController` settings (`namespace` of Traefik, created by the Helm release, and
 * `serviceType` of its Service), and the route kinds it serves.
 */
export interface TraefikControllerArgs
  extends Pick<StackSettings["ingressController"], "namespace" | "serviceType"> {
  /**
   * Serve Ingresses of this class with their `nginx.ingress.kubernetes.io/*` annotations (Traefik's
   * kubernetesIngressNGINX provider), and create the IngressClass (controller
   * `k8s.io/ingress-nginx`) that provider watches. Defaults to none.
   */
  ingressNginxClassName?: string;
  /**
   * Serve the Gateway API (Traefik's kubernetesGateway provider): a GatewayClass `traefik` and this
   * Gateway in `namespace`, one HTTP listener `web` on the chart's web entrypoint, open to
   * HTTPRoutes of every namespace. Needs the Gateway API CRDs (standard channel) installed.
   * Defaults to none.
   */
  gateway?: { name: string };
}

/**
 * Traefik v3 from its Helm chart, the maintained controller after ingress-nginx's retirement
 * (March 2026): its NGINX provider serves the Ingresses this program writes, annotations included,
 * and its Gateway API provider serves HTTPRoutes. Only for stacks that ask for it
 * (`food11:ingressController traefik`).
 */
export class TraefikController extends pulumi.ComponentResource {
  /** Namespace of Traefik. */
  public readonly namespace: string;
  /** The Helm release. */
  public readonly release: k8s.helm.v3.Release;
  /** The IngressClass the NGINX provider watches, when asked for. */
  public readonly ingressClass: k8s.networking.v1.IngressClass | undefined;
  /** The GatewayClass, when a Gateway is asked for. */
  public readonly gatewayClass: k8s.apiextensions.CustomResource | undefined;
  /** The Gateway, when asked for. */
  public readonly gateway: k8s.apiextensions.CustomResource | undefined;
  /** The Gateway's first address once Traefik has published it (`localhost` until then). */
  public readonly gatewayAddress: pulumi.Output<string> | undefined;

  /**
   * @throws pulumi.InputPropertiesError when the args break their contract (see
   * {@link checkTraefikControllerArgs}); nothing is registered then.
   */
  constructor(name: string, args: TraefikControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    checkTraefikControllerArgs(name, args);
    super(TYPE, name, {}, opts);
    this.namespace = args.namespace;
    const t = DEFAULTS.traefik;
    const nginx = args.ingressNginxClassName !== undefined;

    this.release = new k8s.helm.v3.Release(
      `${name}-traefik`,
      {
        chart: t.chart,
        version: t.version,
        repositoryOpts: { repo: t.repo },
        namespace: this.namespace,
        createNamespace: true,
        values: {
          providers: {
            // One provider per route kind: the plain Ingress provider would serve the same
            // Ingresses a second time, without the nginx annotations.
            kubernetesIngress: { enabled: false },
            kubernetesCRD: { enabled: false },
            kubernetesIngressNginx: nginx
              ? {
                  enabled: true,
                  ingressClass: args.ingressNginxClassName,
                  // Ingress status carries Traefik's Service address (the stack's url output).
                  publishService: { enabled: true },
                }
              : { enabled: false },
            kubernetesGateway: { enabled: args.gateway !== undefined },
          },
          // This component makes the classes and the Gateway itself, so their names and the
          // routes they admit are the stack's.
          ingressClass: { enabled: false },
          gatewayClass: { enabled: false },
          gateway: { enabled: false },
          service: { type: args.serviceType },
        },
      },
      { parent: this },
    );

    this.ingressClass = nginx
      ? new k8s.networking.v1.IngressClass(
          `${name}-ingressclass`,
          {
            metadata: { name: args.ingressNginxClassName },
            spec: { controller: "k8s.io/ingress-nginx" },
          },
          { parent: this },
        )
      : undefined;

    if (args.gateway !== undefined) {
      this.gatewayClass = new k8s.apiextensions.CustomResource(
        `${name}-gatewayclass`,
        {
          apiVersion: GATEWAY_API_VERSION,
          kind: "GatewayClass",
          metadata: { name: t.gatewayClassName },
          spec: { controllerName: t.controllerName },
        },
        { parent: this },
      );
      this.gateway = new k8s.apiextensions.CustomResource(
        `${name}-gateway`,
        {
          apiVersion: GATEWAY_API_VERSION,
          kind: "Gateway",
          metadata: { name: args.gateway.name, namespace: this.namespace },
          // Among the outputs, for the address Traefik publishes there.
          status: undefined,
          spec: {
            gatewayClassName: t.gatewayClassName,
            listeners: [
              {
                name: "web",
                protocol: "HTTP",
                port: t.webPort,
                allowedRoutes: { namespaces: { from: "All" } },
              },
            ],
          },
        },
        { parent: this, dependsOn: [this.release, this.gatewayClass] },
      );
      this.gatewayAddress = firstGatewayAddress(this.gateway);
    }

    this.registerOutputs({ namespace: this.namespace, gatewayAddress: this.gatewayAddress });
  }
}

/**
 * A Gateway's first `status.addresses` value (`localhost` while it has none). The resource must
 * have `status` among its properties (given as `status: undefined`).
 */
export function firstGatewayAddress(
  gateway: k8s.apiextensions.CustomResource,
): pulumi.Output<string> {
  const status = (gateway as unknown as { status: pulumi.Output<unknown> }).status;
  return status.apply(
    (s) =>
      (s as { addresses?: { value?: string }[] } | undefined)?.addresses?.[0]?.value || "localhost",
  );
}

/**
 * The contract of {@link TraefikControllerArgs}: each arg valid as the key it comes from
 * (food11:ingressControllerNamespace, ingressControllerServiceType, ingressClassName, gatewayName)
 * says, and at least one route kind to serve. Throws a `pulumi.InputPropertiesError` listing
 * every violation.
 */
export function checkTraefikControllerArgs(name: string, args: TraefikControllerArgs): void {
  const check = new ArgsCheck(TYPE, name);
  check.failIf("namespace", keyViolation("ingressControllerNamespace", args.namespace));
  if (args.ingressNginxClassName !== undefined) {
    const className = keyViolation("ingressClassName", args.ingressNginxClassName);
    check.failIf("ingressNginxClassName", className);
  }
  if (args.gateway !== undefined) {
    check.failIf("gateway.name", keyViolation("gatewayName", args.gateway.name));
  }
  if (args.ingressNginxClassName === undefined && args.gateway === undefined) {
    check.fail(
      "gateway",
      "neither ingressNginxClassName nor gateway is given: Traefik would serve no route of this program",
    );
  }
  check.failIf("serviceType", keyViolation("ingressControllerServiceType", args.serviceType));
  check.throwIfInvalid();
}
