// `senseact bench loop [--json] [--quick]` (registered in cli/bench.ts).
import { progressBar } from '../cli/progress.ts';
import { benchLoop, formatLoopBench } from './loop.ts';

export async function benchLoopCommand(opts: { json?: boolean; quick?: boolean }): Promise<void> {
  const bar = progressBar('bench loop');
  const result = await benchLoop({
    ...(opts.quick ? { seconds: 3, warmupS: 1 } : {}),
    onProgress: (done, total, what) => bar.update(done, total, what),
  }).finally(() => bar.stop());
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(formatLoopBench(result) + '\n');
}
