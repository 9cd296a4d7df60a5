// Scripted experts succeed on ≥ 95 % of 20 seeds; random actions on < 10 % of 20 seeds.
import { describe, expect, it } from 'vitest';
import type { TaskName } from '../../sim/index.ts';
import { range, runSeeds, summary } from './helpers.ts';

const TASKS: TaskName[] = ['find-smell', 'gentle-grasp'];

describe.each(TASKS)('%s', (task) => {
  it('the expert succeeds on at least 19 of 20 seeds', async () => {
    const results = await runSeeds(task, 'full', range(0, 20));
    const ok = results.filter((r) => r.success).length;
    expect(ok, summary(results)).toBeGreaterThanOrEqual(19);
  });

  it('random actions succeed on fewer than 10 % of seeds', async () => {
    const results = await runSeeds(task, 'random', range(100, 20));
    expect(results.filter((r) => r.success).length / 20, summary(results)).toBeLessThan(0.1);
  });
});
