import type { z } from "zod";

/**
 * A zod error as the files' readers report it: one `path: message` line per issue, `(root)` for
 * the whole document (the schedules, the capacity profile, the HPA trace, the report manifest).
 */
export function zodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}
