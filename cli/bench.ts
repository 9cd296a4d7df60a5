// `senseact bench <what> [--json] [--quick]`: one entry per benchmark. Add a
// row to BENCHES when a benchmark lands; rows without `run` say they are not
// built yet and exit 2.
import { CliError } from './errors.ts';
import { benchRecordCommand } from './bench-record.ts';
import { benchSimCommand } from './sim.ts';

export interface BenchOptions {
  json?: boolean;
  quick?: boolean;
}

interface BenchEntry {
  /** The issue that builds it. */
  issue: number;
  run?: (opts: BenchOptions) => Promise<void>;
}

export const BENCHES: Record<string, BenchEntry> = {
  kernels: { issue: 7, run: async (opts) => (await import('../bench/kernels.ts')).benchKernelsCommand(opts) },
  train: { issue: 7, run: async (opts) => (await import('../bench/train.ts')).benchTrainCommand(opts) },
  infer: { issue: 7, run: async (opts) => (await import('../bench/infer.ts')).benchInferCommand(opts) },
  record: { issue: 4, run: benchRecordCommand },
  sim: { issue: 5, run: benchSimCommand },
  loop: { issue: 8, run: async (opts) => (await import('../bench/loopCommand.ts')).benchLoopCommand(opts) },
};

export async function benchCommand(what: string, opts: BenchOptions): Promise<void> {
  const entry = Object.hasOwn(BENCHES, what) ? BENCHES[what] : undefined;
  if (!entry) throw new CliError(`unknown benchmark '${what}' (one of: ${Object.keys(BENCHES).join(', ')})`, 2);
  if (!entry.run) throw new CliError(`'bench ${what}' is not built yet (issue #${entry.issue}); see README for what works today`, 2);
  await entry.run(opts);
}
