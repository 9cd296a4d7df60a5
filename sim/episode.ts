// Runs one episode with a driver (expert, random, or anything with act())
// and hands each tick's samples to a sink. Used by `sim run`, tests and benches.
import type { SimAction } from './action.ts';
import type { SimEnv } from './env.ts';
import { RandomPolicy } from './expert.ts';
import { Rng } from './rng.ts';
import type { Sample } from './samples.ts';
import type { ExpertVariant } from './task.ts';

export interface Driver {
  act(env: SimEnv): SimAction;
  /** A push the world adds to this tick's command (the experts' DART noise); not part of the recorded action. */
  disturbance?(): readonly [number, number, number];
}

export type DriverKind = ExpertVariant | 'random';

/** The expert (or random policy) for the env's current episode; its noise is seeded from the episode seed. */
export function makeDriver(env: SimEnv, kind: DriverKind): Driver {
  const rng = new Rng(env.seed, 20);
  if (kind === 'random') {
    const p = new RandomPolicy(rng);
    return { act: () => p.act() };
  }
  return env.task.expert(kind, rng);
}

export interface EpisodeResult {
  seed: number;
  success: boolean;
  failure: string | null;
  /** Control ticks until the episode was decided (success or failure). */
  ticks: number;
  /** Ticks run past success (`after`): the driver went on, the outcome stood. */
  after: number;
  info: Record<string, unknown>;
}

/**
 * Runs one episode; `kind` names an expert (or random), or makes any driver for the reset scene.
 * A success is followed by `after` more ticks of the same driver, as an operator stops a recording
 * once the hand has let go and moved off, not the instant the task is done (success is final).
 */
export async function runEpisode(env: SimEnv, seed: number, kind: DriverKind | ((env: SimEnv) => Driver), sink?: (samples: Sample[]) => void | Promise<void>, after = 0): Promise<EpisodeResult> {
  const first = await env.reset(seed);
  await sink?.(first);
  const driver = typeof kind === 'function' ? kind(env) : makeDriver(env, kind);
  const tick = async () => {
    const samples = await env.step(driver.act(env), driver.disturbance?.() ?? null);
    await sink?.(samples);
  };
  while (!env.done()) await tick();
  const ticks = env.tick;
  const info = env.info();
  if (env.success()) for (let i = 0; i < after; i++) await tick();
  return { seed, success: env.success(), failure: env.failure(), ticks, after: env.tick - ticks, info };
}
