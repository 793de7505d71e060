/**
 * What each committed stack deploys, in one file per stack (__snapshots__/<stack>.yaml): the stack
 * outputs, then every resource as the program registers it under mocks (type, name, parent,
 * dependencies, provider, inputs), sorted by type and name. A change to a stack's manifests shows
 * in review as a YAML diff; after a deliberate change, `npx vitest run
 * test/unit/infra/manifests.test.ts -u` rewrites the files.
 */
import { describe, expect, it } from "vitest";
import { STACKS } from "../../../stacks";
import { manifestsYaml, runProgram } from "./mocks";

describe.each(STACKS)("stack %s", (stack) => {
  it("registers what __snapshots__/<stack>.yaml holds", async () => {
    const run = await runProgram(stack);
    expect(run.error).toBeUndefined();
    await expect(manifestsYaml(run)).toMatchFileSnapshot(`__snapshots__/${stack}.yaml`);
  });
});
