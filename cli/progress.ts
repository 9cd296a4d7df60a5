// Progress bars for long-running commands: cli-progress on stderr (never
// stdout, which belongs to --json), drawn only when stderr is a terminal.
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, what: string): void;
  stop(): void;
}

export function progressBar(label: string): ProgressBar {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {value}/{total} ETA {eta_formatted} {what}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, what) {
      if (!started) {
        bar.start(total, done, { what });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { what });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
