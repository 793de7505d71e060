/**
 * Read this stack's `food11:*` config from the Pulumi engine, once, and validate it. A bad stack
 * stops the program before any resource is registered, as a `pulumi.RunError`: the engine then
 * prints the message (stack, key, value, fix) without a stack trace.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  parseStackConfig,
  StackConfigError,
  type StackSettings,
  withExtraCaCertificates,
} from "./settings";

/** The validated settings of the running stack; warnings go to the Pulumi log. */
export function loadSettings(): StackSettings {
  let settings: StackSettings;
  try {
    settings = withExtraCaCertificates(
      parseStackConfig(pulumi.getStack(), pulumi.runtime.allConfig()),
      // Relative paths are the project root's, as imageContext and imageDockerfile are.
      (file) => readFileSync(path.resolve(file), "utf8"),
    );
  } catch (error) {
    if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
  for (const warning of settings.warnings) {
    pulumi.log.warn(warning);
  }
  return settings;
}
