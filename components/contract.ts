/**
 * The components' own contracts: each component checks its args at construction, before it
 * registers itself or any child, and throws one `pulumi.InputPropertiesError` that lists every
 * violated property (`propertyPath`, and a `reason` naming the bad value and what is allowed).
 *
 * Not the user-facing check: a stack's `food11:*` config is validated first by the zod schema in
 * stacks/, with stack, key, value and fix. These checks guard the components' own API (another
 * program, a test, a refactor of index.ts) and what Kubernetes would otherwise reject at apply time.
 * The settings a component takes as the schema outputs them are checked by the schema's own
 * validation (stacks/schema.ts `settingsViolations`, `keyViolation`); by hand, here and in each
 * `check<Component>Args`, only what no key declares.
 */
import * as pulumi from "@pulumi/pulumi";
import { show } from "./rules";

/** One violated property of a component's args. */
export interface ArgViolation {
  /** Dotted path inside the args, e.g. `autoscaling.minReplicas`. */
  propertyPath: string;
  /** What is wrong, with the bad value and what is allowed. */
  reason: string;
}

/** Collects the violations of one component's args, then throws them together. */
export class ArgsCheck {
  private readonly violations: ArgViolation[] = [];

  /**
   * @param type The component's type token, e.g. `food11:service:InferenceService`.
   * @param name The component's name.
   */
  constructor(
    private readonly type: string,
    private readonly name: string,
  ) {}

  /** Records a violation of `propertyPath`. */
  fail(propertyPath: string, reason: string): void {
    this.violations.push({ propertyPath, reason });
  }

  /** Records a violation of `propertyPath` when there is a `reason` (e.g. stacks' keyViolation). */
  failIf(propertyPath: string, reason: string | undefined): void {
    if (reason !== undefined) this.fail(propertyPath, reason);
  }

  /** Records each of `violations`, e.g. what stacks/schema.ts' settingsViolations found. */
  failAll(violations: readonly ArgViolation[]): void {
    this.violations.push(...violations);
  }

  /** `value` must be a string with a non-blank, whitespace-free text; returns whether it is. */
  token(propertyPath: string, value: unknown, what: string): boolean {
    if (typeof value !== "string" || value.trim() === "" || /\s/.test(value)) {
      this.fail(
        propertyPath,
        `${show(value)} is not allowed: must be ${what} (non-empty, no spaces)`,
      );
      return false;
    }
    return true;
  }

  /** Throws a `pulumi.InputPropertiesError` listing every violation, if there is any. */
  throwIfInvalid(): void {
    const errors = this.violations;
    if (errors.length === 0) return;
    const count = `${errors.length} invalid propert${errors.length === 1 ? "y" : "ies"}`;
    throw new pulumi.InputPropertiesError({
      message: `${this.type} ${show(this.name)}: ${count}:\n${errors
        .map((e) => `  - ${e.propertyPath}: ${e.reason}`)
        .join("\n")}`,
      errors: errors.map((e) => ({ ...e })),
    });
  }
}
