// Shared by the sim tests: run many seeded episodes of one task and count outcomes.
import { describe, expect, it } from 'vitest';
import { SimEnv, runEpisode, type DriverKind, type EpisodeResult, type TaskName } from '../../sim/index.ts';

/** Runs `fn` with a fresh environment of `task`, closed afterwards whatever `fn` does. */
export async function withEnv<T>(task: TaskName, fn: (env: SimEnv) => Promise<T>): Promise<T> {
  const env = new SimEnv({ task });
  try {
    return await fn(env);
  } finally {
    env.close();
  }
}

export async function runSeeds(task: TaskName, kind: DriverKind, seeds: number[]): Promise<EpisodeResult[]> {
  return withEnv(task, async (env) => {
    const out: EpisodeResult[] = [];
    for (const seed of seeds) out.push(await runEpisode(env, seed, kind));
    return out;
  });
}

export const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

export function summary(results: EpisodeResult[]): string {
  return results.map((r) => `${r.seed}:${r.success ? 'ok' : r.failure}`).join(' ');
}

/** The expert / random-action suite for some tasks (split across files so they run in parallel). */
export function expertSuite(TASKS: TaskName[]): void {
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
}
