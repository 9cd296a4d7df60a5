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

/**
 * Several bars at once (an ensemble's members training side by side), and log lines printed above them.
 * Not the bar above with one bar: a MultiBar draws only from a timer, which a training loop in this
 * process would starve; here the work is in other processes and this one's event loop is free.
 */
export interface ProgressBars {
  bar(label: string): ProgressBar;
  log(line: string): void;
  stop(): void;
}

export function progressBars(): ProgressBars {
  if (!process.stderr.isTTY) return { bar: () => ({ update: () => {}, stop: () => {} }), log: (line) => process.stderr.write(line + '\n'), stop: () => {} };
  const multi = new cliProgress.MultiBar({ stream: process.stderr, format: '{label} [{bar}] {value}/{total} ETA {eta_formatted} {what}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  return {
    bar(label) {
      let bar: cliProgress.SingleBar | null = null;
      return {
        update(done, total, what) {
          if (!bar) bar = multi.create(total, done, { label, what });
          else {
            bar.setTotal(total);
            bar.update(done, { what });
          }
        },
        stop() {
          if (bar) multi.remove(bar);
        },
      };
    },
    log: (line) => multi.log(line + '\n'),
    stop: () => multi.stop(),
  };
}
