import * as k8s from "@pulumi/kubernetes";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

export const LEGACY_INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/**
 * Advisory: a class-less Ingress is still served on a cluster that marks one IngressClass as
 * default (the admission plugin fills the class in), and the class name differs per cluster
 * (nginx, traefik on k3s), so refusing the deploy would be wrong; but on a cluster without a
 * default class it is silently ignored, so the preview warns.
 */
export const ingressClass: ResourceValidationPolicy = {
  name: "ingress-class",
  description:
    "Every Ingress names its class (spec.ingressClassName, or the legacy " +
    `${LEGACY_INGRESS_CLASS_ANNOTATION} annotation). Advisory: clusters with a default ` +
    "IngressClass still serve it, elsewhere it is silently ignored.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateResource: validateResourceOfType(k8s.networking.v1.Ingress, (ingress, args, report) => {
    const className = ingress.spec?.ingressClassName;
    const annotation = ingress.metadata?.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION];
    const name = ingress.metadata?.name ?? args.name;
    if (typeof className === "string" && className.trim() !== "") return;
    if (typeof annotation === "string" && annotation.trim() !== "") return;
    report(
      `Ingress ${name}: has no class (set spec.ingressClassName or the ` +
        `${LEGACY_INGRESS_CLASS_ANNOTATION} annotation)`,
    );
  }),
};
