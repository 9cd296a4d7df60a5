// Shared by the sim tests: run many seeded episodes of one task and count outcomes.
import { SimEnv, runEpisode, type DriverKind, type EpisodeResult, type TaskName } from '../../sim/index.ts';

export async function runSeeds(task: TaskName, kind: DriverKind, seeds: number[]): Promise<EpisodeResult[]> {
  const env = new SimEnv({ task });
  const out: EpisodeResult[] = [];
  try {
    for (const seed of seeds) out.push(await runEpisode(env, seed, kind));
  } finally {
    env.close();
  }
  return out;
}

export const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

export function summary(results: EpisodeResult[]): string {
  return results.map((r) => `${r.seed}:${r.success ? 'ok' : r.failure}`).join(' ');
}
