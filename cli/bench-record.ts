// `senseact bench record [--json] [--quick]`: the episode log against JSON lines.
import { benchRecord, formatRecordBench } from '../bench/index.ts';
import type { BenchOptions } from './bench.ts';
import { progressBar } from './progress.ts';

export async function benchRecordCommand(opts: BenchOptions): Promise<void> {
  const bar = progressBar('bench record');
  const result = await benchRecord({
    ...(opts.quick ? { seconds: 5, repeats: 1, realtime_s: 2 } : {}),
    onProgress: (done, total, what) => bar.update(done, total, what),
  }).finally(() => bar.stop());
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(formatRecordBench(result) + '\n');
}
