/**
 * Read this stack's `food11:*` config from the Pulumi engine, once, and validate it. Throws a
 * {@link StackConfigError} before the program registers any resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type StackSettings } from "./settings";

/** The validated settings of the running stack; warnings go to the Pulumi log. */
export function loadSettings(): StackSettings {
  const settings = parseStackConfig(pulumi.getStack(), pulumi.runtime.allConfig());
  for (const warning of settings.warnings) {
    pulumi.log.warn(warning);
  }
  return settings;
}
