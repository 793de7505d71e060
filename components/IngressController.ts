import * as nginx from "@pulumi/kubernetes-ingress-nginx";
import * as pulumi from "@pulumi/pulumi";
import { keyViolation, type StackSettings } from "../stacks/schema";
import { ArgsCheck } from "./contract";

/** The type token of {@link IngressController}. */
const TYPE = "food11:ingress:IngressController";

/**
 * Arguments of {@link IngressController} (stacks/index.ts: ingressControllerArgs): the stack's
 * `ingressController` settings (`namespace` of the controller, created by the Helm release, and
 * `serviceType` of its Service) and the IngressClass it serves.
 */
export interface IngressControllerArgs
  extends Pick<StackSettings["ingressController"], "namespace" | "serviceType"> {
  /** IngressClass the controller serves: food11:ingressClassName. */
  className: string;
}

/**
 * ingress-nginx, installed by @pulumi/kubernetes-ingress-nginx's `IngressController` (a Helm
 * release behind a multi-language component). Only for stacks that ask for it
 * (`food11:ingressController ingress-nginx`): many clusters already run one.
 */
export class IngressController extends pulumi.ComponentResource {
  /** Namespace of the controller. */
  public readonly namespace: string;
  /** The IngressClass it serves. */
  public readonly className: string;
  /** The underlying component. */
  public readonly controller: nginx.IngressController;

  /**
   * @throws pulumi.InputPropertiesError when the args break their contract (see
   * {@link checkIngressControllerArgs}); nothing is registered then.
   */
  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    checkIngressControllerArgs(name, args);
    super(TYPE, name, {}, opts);
    this.namespace = args.namespace;
    this.className = args.className;

    this.controller = new nginx.IngressController(
      `${name}-controller`,
      {
        controller: {
          // Ingress status carries the controller Service's address (the stack's url output).
          publishService: { enabled: true },
          ingressClassResource: { name: this.className, enabled: true, default: false },
          service: { type: args.serviceType },
          metrics: { enabled: true },
        },
        helmOptions: { namespace: this.namespace, createNamespace: true },
      },
      { parent: this },
    );

    this.registerOutputs({ namespace: this.namespace, className: this.className });
  }
}

/**
 * The contract of {@link IngressControllerArgs}: each arg valid as the key it comes from
 * (food11:ingressControllerNamespace, ingressClassName, ingressControllerServiceType) says.
 * Throws a `pulumi.InputPropertiesError` listing every violation.
 */
export function checkIngressControllerArgs(name: string, args: IngressControllerArgs): void {
  const check = new ArgsCheck(TYPE, name);
  check.failIf("namespace", keyViolation("ingressControllerNamespace", args.namespace));
  check.failIf("className", keyViolation("ingressClassName", args.className));
  check.failIf("serviceType", keyViolation("ingressControllerServiceType", args.serviceType));
  check.throwIfInvalid();
}
