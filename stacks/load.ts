/**
 * Read this stack's `food11:*` config from the Pulumi engine, once, and validate it. A bad stack
 * stops the program before any resource is registered, as a `pulumi.RunError`: the engine then
 * prints the message (stack, key, value, fix) without a stack trace.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigError, type StackSettings } from "./settings";

/** The validated settings of the running stack; warnings go to the Pulumi log. */
export function loadSettings(): StackSettings {
  let settings: StackSettings;
  try {
    settings = parseStackConfig(pulumi.getStack(), pulumi.runtime.allConfig());
  } catch (error) {
    if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
  for (const warning of settings.warnings) {
    pulumi.log.warn(warning);
  }
  return settings;
}
