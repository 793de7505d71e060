/** A run's named steps: the error that names its step, and each step's wall time. */

/** An error naming the step it happened in. */
export class StepError extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StepError";
  }
}

/**
 * `step(label, f)` says the label, runs f, records its wall time in `steps` (seconds, also when
 * it fails) and names the label in what it throws.
 */
export function timedSteps(say: (line: string) => void): {
  steps: Record<string, number>;
  step: <T>(label: string, f: () => Promise<T>) => Promise<T>;
} {
  const steps: Record<string, number> = {};
  const step = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    say(`${label}…`);
    try {
      return await f();
    } catch (err) {
      throw err instanceof StepError ? err : new StepError(label, err);
    } finally {
      steps[label] = (Date.now() - t0) / 1000;
    }
  };
  return { steps, step };
}
