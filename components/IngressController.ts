import * as nginx from "@pulumi/kubernetes-ingress-nginx";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "./defaults";

/** Arguments of {@link IngressController}. */
export interface IngressControllerArgs {
  /** Namespace of the controller (created by the Helm release). Defaults to `ingress-nginx`. */
  namespace?: string;
  /** IngressClass the controller serves. Defaults to `nginx`. */
  className?: string;
  /** Type of the controller's Service. Defaults to `LoadBalancer`. */
  serviceType?: "LoadBalancer" | "NodePort" | "ClusterIP";
}

/**
 * ingress-nginx, installed by @pulumi/kubernetes-ingress-nginx's `IngressController` (a Helm
 * release behind a multi-language component). Only for stacks that ask for it
 * (`food11:installIngressController`): many clusters already run one.
 */
export class IngressController extends pulumi.ComponentResource {
  /** Namespace of the controller. */
  public readonly namespace: string;
  /** The IngressClass it serves. */
  public readonly className: string;
  /** The underlying component. */
  public readonly controller: nginx.IngressController;

  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("food11:ingress:IngressController", name, {}, opts);
    this.namespace = args.namespace ?? DEFAULTS.ingressController.namespace;
    this.className = args.className ?? DEFAULTS.ingress.className;
    const serviceType = args.serviceType ?? DEFAULTS.ingressController.serviceType;

    this.controller = new nginx.IngressController(
      `${name}-controller`,
      {
        controller: {
          // Ingress status carries the controller Service's address (the stack's url output).
          publishService: { enabled: true },
          ingressClassResource: { name: this.className, enabled: true, default: false },
          service: { type: serviceType },
          metrics: { enabled: true },
        },
        helmOptions: { namespace: this.namespace, createNamespace: true },
      },
      { parent: this },
    );

    this.registerOutputs({ namespace: this.namespace, className: this.className });
  }
}
