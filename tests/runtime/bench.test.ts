// `bench loop` end to end on the in-process simulator, briefly (the numbers
// themselves are reported by `senseact bench loop`, not asserted here).
import { expect, it } from 'vitest';
import { benchLoop, formatLoopBench } from '../../bench/loop.ts';

it('bench loop measures both runners on the same robot and policy', async () => {
  const r = await benchLoop({ robots: ['sim'], policies: ['scripted'], seconds: 2, warmupS: 0.5 });
  expect(r.runs.map((x) => x.runner).sort()).toEqual(['bare loop', 'senseact']);
  for (const run of r.runs) {
    expect(run.ticks).toBeGreaterThan(5);
    expect(run.commands).toBeGreaterThan(0);
    expect(run.sample_to_command_ms.n).toBe(run.commands);
    expect(run.jitter_ms.p99).toBeGreaterThanOrEqual(run.jitter_ms.p50);
  }
  expect(r.ratios).toHaveLength(1);
  expect(formatLoopBench(r)).toContain('senseact / bare loop (sim, scripted:wave)');
}, 60_000);
