import type { z } from "zod";

/**
 * A zod error as the files' readers report it: one `path: message` line per issue, `(root)` for
 * the whole document (the schedules, the capacity profile, the HPA trace, the report manifest).
 */
export function zodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

/**
 * "<file> is not <what>:", its issues one per indented line, then "Fix: <fix>": the message of a
 * file that is not what the reader wants (the capacity profile, the HPA trace).
 */
export function notAFileMessage(
  file: string,
  what: string,
  error: z.ZodError,
  fix: string,
): string {
  const problems = zodIssues(error).map((i) => `  - ${i}`);
  return `${file} is not ${what}:\n${problems.join("\n")}\nFix: ${fix}`;
}
