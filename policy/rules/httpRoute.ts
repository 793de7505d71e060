import type { ResourceValidationPolicy } from "@pulumi/policy";
import { GATEWAY_API_VERSION } from "../../components/defaults";

/** The Pulumi type of a Gateway API HTTPRoute (a CustomResource of the Kubernetes provider). */
export const HTTPROUTE_TYPE = `kubernetes:${GATEWAY_API_VERSION}:HTTPRoute`;

/** A path match of an HTTPRoute rule (`spec.rules[].matches[].path`). */
export interface GatewayPathMatch {
  type?: string;
  value?: string;
}

/** The path of a rule's URLRewrite filter (`spec.rules[].filters[].urlRewrite.path`). */
export interface UrlRewrite {
  type?: string;
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

/** An HTTPRoute's props as the pack's rules read them (httproute-parent, admin-not-routed). */
export interface HttpRouteProps {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    parentRefs?: { name?: unknown; kind?: unknown }[];
    rules?: {
      matches?: { path?: GatewayPathMatch }[];
      filters?: { type?: string; urlRewrite?: { path?: UrlRewrite } }[];
      backendRefs?: { name?: string; namespace?: string; port?: number; kind?: string }[];
    }[];
  };
}

/**
 * Advisory, as `ingress-class` is for the Ingress: an HTTPRoute without a parent Gateway is
 * accepted by the API server and attached nowhere (no controller serves it), and which Gateway to
 * name differs per cluster, so the preview warns instead of refusing.
 */
export const httpRouteParent: ResourceValidationPolicy = {
  name: "httproute-parent",
  description:
    "Every gateway.networking.k8s.io/v1 HTTPRoute names a parent Gateway (spec.parentRefs with a " +
    "name). Advisory: without one the route is accepted and attached nowhere.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateResource: (args, report) => {
    if (args.type !== HTTPROUTE_TYPE)
      args.notApplicable(`Policy only applies to ${HTTPROUTE_TYPE}`);
    const route = args.props as HttpRouteProps;
    const name = route.metadata?.name ?? args.name;
    const parents = (route.spec?.parentRefs ?? []).filter(
      (p) => typeof p.name === "string" && p.name.trim() !== "",
    );
    if (parents.length === 0) {
      report(`HTTPRoute ${name}: has no parent Gateway (set spec.parentRefs[].name)`);
    }
  },
};
