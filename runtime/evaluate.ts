// `senseact eval`: run a policy in the simulator on seeds it never saw,
// through the same sample → stream → synchronizer → policy path as the robot,
// and report success with a 95% Wilson interval, steps, failure causes and
// inference latency (as LeRobot reports pc_success, with intervals).
import { z } from 'zod';
import { observationStreams, type CameraData } from '../sensors/index.ts';
import { loadController, type Controller, type Modality } from '../policy/index.ts';
import { SimEnv, STREAMS, type TaskName } from '../sim/index.ts';
import { createNodeCamera } from '../sim/camera-node.ts';
import { SimFeed } from './simFeed.ts';
import { wilson } from './stats.ts';
import { traceTick, type TraceEnd, type TraceTick } from './trace.ts';

export const EvalResult = z.object({
  task: z.string(),
  policy: z.string(),
  kind: z.string(),
  mask: z.array(z.string()),
  episodes: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  success_rate: z.number().min(0).max(1),
  ci95: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
  mean_steps: z.number().nonnegative(),
  failures: z.record(z.string(), z.number().int().positive()),
  /** Per task milestone (sim/task.ts): episodes that reached it, their rate and its 95% Wilson interval. */
  milestones: z.record(
    z.string(),
    z.object({ count: z.number().int().nonnegative(), rate: z.number().min(0).max(1), ci95: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]) }),
  ),
  latency_ms: z.object({ p50: z.number(), p99: z.number() }),
  seeds: z.array(z.number().int()),
  backend: z.string(),
  seconds: z.number().nonnegative(),
});
export type EvalResult = z.infer<typeof EvalResult>;

export interface EpisodeOutcome {
  seed: number;
  success: boolean;
  failure: string | null;
  steps: number;
  /** The task's milestones as the episode ended. */
  milestones: Record<string, boolean>;
  /** Camera frames sampled through the episode (for the report). */
  frames: CameraData[];
}

export interface EvalOptions {
  policy: string;
  task: TaskName;
  episodes: number;
  seed: number;
  mask?: Modality[];
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Render the cameras (default: when the policy was trained with a camera stream; the scene camera only when it reads one). */
  camera?: boolean;
  onEpisode?: (done: number, total: number, outcome: EpisodeOutcome) => void;
  /** Receives every tick of every episode, then its end (eval --trace). */
  trace?: (record: TraceTick | TraceEnd) => void;
}

/** The simulator streams' native rates, as eval expects them (health checks need the expected rate). */
export const SIM_RATES: Record<string, number> = {
  [STREAMS.camera]: 30,
  [STREAMS.sceneCamera]: 30,
  [STREAMS.tactileLeft]: 100,
  [STREAMS.tactileRight]: 100,
  [STREAMS.smell]: 2,
  [STREAMS.proprio]: 100,
};

export async function evaluatePolicy(options: EvalOptions): Promise<{ result: EvalResult; outcomes: EpisodeOutcome[] }> {
  const t0 = performance.now();
  const controller: Controller = await loadController(options.policy, { backend: options.backend, mask: options.mask });
  const layout = controller.layout;
  const trained = controller.trainedSeeds;
  const names = observationStreams(layout);
  const wantCamera = options.camera ?? layout.camera !== null;
  const camera = wantCamera ? await createNodeCamera({ scene: layout.scene_camera !== null }) : null;
  const env = new SimEnv({ task: options.task, camera });
  const outcomes: EpisodeOutcome[] = [];
  const seeds: number[] = [];
  try {
    for (let seed = options.seed; seeds.length < options.episodes; seed++) {
      // Held-out seeds: never one a training demo was recorded with.
      if (trained.includes(seed)) continue;
      seeds.push(seed);
      controller.reset();
      const feed = new SimFeed(names, SIM_RATES, layout.smell.stream ? { [layout.smell.stream]: layout.smell.history } : {});
      feed.add(await env.reset(seed));
      const frames: CameraData[] = [];
      while (!env.done()) {
        const frame = feed.frame(env.timeNs);
        const cam = layout.camera ? frame.slots[layout.camera]?.sample : null;
        if (cam && env.tick % 10 === 0 && frames.length < 12) frames.push(cam.data as CameraData);
        const action = await controller.act(frame);
        const command = { linear: action.linear, angular: action.angular, gripper: action.gripper };
        feed.add(await env.step(command));
        options.trace?.(traceTick(env, seed, command));
      }
      const outcome: EpisodeOutcome = { seed, success: env.success(), failure: env.failure(), steps: env.tick, milestones: env.task.milestones?.(env) ?? {}, frames };
      options.trace?.({ seed, end: true, success: outcome.success, failure: outcome.failure, steps: outcome.steps, milestones: outcome.milestones, info: env.info() });
      outcomes.push(outcome);
      options.onEpisode?.(outcomes.length, options.episodes, outcome);
    }
  } finally {
    env.close();
    controller.dispose();
  }
  const successes = outcomes.filter((o) => o.success).length;
  const failures: Record<string, number> = {};
  for (const o of outcomes) if (!o.success) failures[o.failure ?? 'unknown'] = (failures[o.failure ?? 'unknown'] ?? 0) + 1;
  const milestones: EvalResult['milestones'] = {};
  for (const name of new Set(outcomes.flatMap((o) => Object.keys(o.milestones)))) {
    const count = outcomes.filter((o) => o.milestones[name]).length;
    milestones[name] = { count, rate: count / outcomes.length, ci95: wilson(count, outcomes.length) };
  }
  const result: EvalResult = {
    task: options.task,
    policy: options.policy,
    kind: controller.kind,
    mask: options.mask ?? [],
    episodes: outcomes.length,
    successes,
    success_rate: outcomes.length ? successes / outcomes.length : 0,
    ci95: wilson(successes, outcomes.length),
    mean_steps: outcomes.length ? outcomes.reduce((a, o) => a + o.steps, 0) / outcomes.length : 0,
    failures,
    milestones,
    latency_ms: controller.latency(),
    seeds,
    backend: controller.backendName,
    seconds: (performance.now() - t0) / 1000,
  };
  return { result: EvalResult.parse(result), outcomes };
}
