// Runs episodes and writes one MCAP log per episode through sensors/ (every
// sample validated by its schema on the way in), with the episode's task,
// seed and outcome as metadata.
import path from 'node:path';
import { LogWriter, type LogSummary } from '../sensors/index.ts';
import type { CameraSource } from './env.ts';
import { SimEnv } from './env.ts';
import { runEpisode, type Driver, type DriverKind, type EpisodeResult } from './episode.ts';
import type { TaskName } from './task.ts';

export interface RecordOptions {
  task: TaskName;
  driver: DriverKind;
  episodes: number;
  firstSeed: number;
  outDir: string;
  camera?: CameraSource | null;
  /** fsync each chunk (default true). */
  fsync?: boolean;
  /** Ticks recorded past a success (runEpisode's `after`; default 0). */
  after?: number;
  onEpisode?: (done: number, result: EpisodeResult, log: LogSummary) => void;
}

/**
 * The robot name recorded in every sim episode, with the scene's version:
 * bump it when the scene, the robot or the experts change what a recorded
 * episode means (2: the motorized robot, find-smell's bin in view, the clock
 * starting at 1 s; 3: the recorded action is the expert's command, its drift a
 * disturbance; 4: find-smell's expert squeezes and opens at a steady rate, by
 * touch; 5: it takes the first jar whose sniff rises by 0.1, not 0.2; 6: the wrist
 * camera looks straight down; 7: pick-place's and open-door's experts close (and pick-place's
 * opens) at a steady rate too, and find-smell's and pick-place's set down by touch), so stale
 * demonstrations are not silently reused.
 */
export const SIM_ROBOT = 'senseact-sim/7';

export function episodeFileName(task: TaskName, seed: number): string {
  return `${task}-seed${String(seed).padStart(6, '0')}.mcap`;
}

export async function recordEpisodes(opts: RecordOptions): Promise<{ results: EpisodeResult[]; logs: LogSummary[] }> {
  const env = new SimEnv({ task: opts.task, camera: opts.camera ?? null });
  const results: EpisodeResult[] = [];
  const logs: LogSummary[] = [];
  try {
    for (let i = 0; i < opts.episodes; i++) {
      const seed = opts.firstSeed + i;
      const { result, log } = await recordEpisode(env, seed, opts.driver, {
        outDir: opts.outDir,
        operator: opts.driver === 'random' ? 'random' : `scripted-expert/${opts.driver}`,
        notes: 'simulated episode (senseact sim run)',
        fsync: opts.fsync,
        after: opts.after,
      });
      results.push(result);
      logs.push(log!);
      opts.onEpisode?.(i + 1, result, log!);
    }
  } finally {
    env.close();
  }
  return { results, logs };
}

export interface EpisodeLogOptions {
  outDir: string;
  operator: string;
  notes: string;
  fsync?: boolean;
  /** Ticks recorded past a success (runEpisode's `after`; default 0). */
  after?: number;
  /** Keep the log only if this says so (default: keep every episode). */
  keep?: (result: EpisodeResult) => boolean;
}

/** Runs and records one episode in `env`; the log is discarded (null) when `keep` refuses it or the run throws. */
export async function recordEpisode(
  env: SimEnv,
  seed: number,
  driver: DriverKind | ((env: SimEnv) => Driver),
  opts: EpisodeLogOptions,
): Promise<{ result: EpisodeResult; log: LogSummary | null }> {
  const writer = await LogWriter.open(path.join(opts.outDir, episodeFileName(env.taskName, seed)), {
    meta: {
      task: env.taskName,
      robot: SIM_ROBOT,
      operator: opts.operator,
      seed,
      success: null,
      notes: opts.notes,
      calibration: { physics_hz: 100, control_hz: 20 },
    },
    fsync: opts.fsync ?? true,
    // Chunks close by sim capture time only: a wall-clock flush timer would make the
    // chunk layout (and so the file bytes) depend on machine speed.
    flushEveryMs: null,
  });
  let rejected: string | null = null;
  try {
    const result = await runEpisode(env, seed, driver, (samples) => {
      for (const s of samples) {
        const r = writer.write(s);
        if (!r.ok && !rejected) rejected = r.error.message;
      }
    }, opts.after);
    if (rejected) throw new Error(`the simulator produced a sample its schema rejects: ${rejected}`);
    if (opts.keep && !opts.keep(result)) {
      await writer.discard();
      return { result, log: null };
    }
    const log = await writer.finalize({ success: result.success, failure: result.failure, ticks: result.ticks, after_success_ticks: result.after });
    return { result, log };
  } catch (err) {
    await writer.discard();
    throw err;
  }
}
