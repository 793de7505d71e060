import cliProgress from "cli-progress";

/** A progress bar on stderr when it is a terminal (and not --quiet); silent otherwise. */
export interface ProgressBar {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

export function progressBar(
  total: number,
  format: string,
  quiet: boolean,
  payload: Record<string, unknown> = {},
): ProgressBar {
  if (quiet || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, payload);
  return {
    update: (v, p) => bar.update(Math.min(total, v), p ?? {}),
    stop: () => bar.stop(),
  };
}
