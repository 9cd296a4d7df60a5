// What `eval` and the daemon drive: anything that turns a synchronizer frame
// into an action, the nearest-neighbour baseline's runner, and the blending of
// chunks every runner shares. Which class runs a checkpoint: policy/load.ts.
import { observationStreams, type ActionData, type Frame } from '../sensors/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { Modality } from './config.ts';
import { ACTION_DIM, allocFeatureBatch, denormalizeAction, encodeExample } from './features.ts';
import { nearestBlocks, nearestFeatures, queryNearest, type NearestTable } from './nearest.ts';
import { exampleFromFrame } from './observe.ts';
import { EpisodeContext } from './context.ts';
import { waypointAction } from './waypoints.ts';
import { percentile } from './runner.ts';

export interface Controller {
  readonly kind: string;
  readonly layout: CheckpointMeta['layout'];
  /** Seeds of the demonstrations it learned from (eval skips them). */
  readonly trainedSeeds: readonly number[];
  readonly backendName: string;
  reset(): void;
  act(frame: Frame): Promise<ActionData>;
  latency(): { p50: number; p99: number };
  dispose(): void;
}

/** The nearest-neighbour baseline at run time; chunks are ensembled like the network's. */
export class NearestRunner implements Controller {
  readonly kind = 'nearest';
  readonly backendName = 'cpu';
  private readonly batch;
  private readonly query: Float32Array;
  private readonly chunk: Float32Array;
  private readonly blender: ActionBlender;
  private readonly latencies: number[] = [];
  private readonly context;

  constructor(
    readonly meta: CheckpointMeta,
    private readonly table: NearestTable,
    private readonly mask: readonly Modality[] = [],
  ) {
    this.batch = allocFeatureBatch(1, meta.config, meta.dims);
    this.query = new Float32Array(nearestBlocks(meta.dims).reduce((a, b) => a + b, 0));
    this.chunk = new Float32Array(meta.config.chunk * ACTION_DIM);
    this.context = new EpisodeContext(meta.config, meta.layout);
    this.blender = ActionBlender.for(meta);
  }
  get layout() {
    return this.meta.layout;
  }
  get trainedSeeds() {
    return this.meta.training?.seeds ?? [];
  }
  reset(): void {
    this.blender.reset();
    this.context.reset();
  }
  async act(frame: Frame): Promise<ActionData> {
    const t0 = performance.now();
    if (isBlind(frame, this.meta.layout)) return this.blender.hold();
    const { config, dims, normalizer } = this.meta;
    const ex = this.context.observe(exampleFromFrame(frame, this.meta, this.mask));
    encodeExample(ex, 0, this.batch, config, normalizer, dims, null);
    nearestFeatures(this.batch, 0, config, dims, this.query);
    queryNearest(this.table, this.query, this.batch.mask, config.neighbours, this.chunk);
    const actions = new Float32Array(this.chunk.length);
    for (let k = 0; k < config.chunk; k++) actions.set(denormalizeAction(normalizer, this.chunk, k * ACTION_DIM), k * ACTION_DIM);
    const a = this.blender.step(actions, ex);
    this.latencies.push(performance.now() - t0);
    return a;
  }
  latency() {
    return { p50: percentile(this.latencies, 50), p99: percentile(this.latencies, 99) };
  }
  dispose(): void {}
}

/**
 * True when the frame holds nothing the policy reads: every stream it was
 * trained on is missing or masked (at start-up, before the first samples
 * arrive, or in a total sensor outage). A policy never saw such a frame in
 * training (the dataset's first frame already has data), so what it predicts
 * there is arbitrary; worse, its chunk would be blended into the next ticks,
 * and a half-closed gripper it commands is then read back through proprio as
 * "the grasp has begun". So a blind tick holds still and leaves no chunk.
 */
export function isBlind(frame: Frame, layout: CheckpointMeta['layout']): boolean {
  return observationStreams(layout).every((n) => !frame.slots[n]?.sample || frame.masked.includes(n));
}

/** The action of a blind tick: no motion, the gripper where it was last commanded. */
export function holdAction(gripper: number): ActionData {
  return { linear: [0, 0, 0], angular: [0, 0, 0], gripper };
}

/**
 * One episode's blending state: the chunks still covering the coming ticks,
 * the tick count, and the last action returned (what a blind tick holds).
 */
export class ActionBlender {
  private chunks: { tick: number; actions: Float32Array }[] = [];
  private tick = 0;
  private last = holdAction(0);

  /**
   * @param horizon ticks a chunk covers (1 = no ensembling); @param k the ensembling weight
   * @param waypoint set when the rows are waypoints (policy/waypoints.ts): the newest chunk is tracked instead
   */
  constructor(
    private readonly horizon: number,
    private readonly k: number,
    private readonly waypoint: { config: CheckpointMeta['config']['action']; proprioNames: readonly string[] } | null = null,
  ) {}

  /** The blender a checkpoint's config asks for. Waypoint rows are relative to the pose they were predicted at, so only the newest chunk is tracked. */
  static for(meta: Pick<CheckpointMeta, 'config' | 'layout'>, noEnsemble = false): ActionBlender {
    const { config, layout } = meta;
    if (config.action.kind === 'waypoint') return new ActionBlender(1, config.ensemble_k, { config: config.action, proprioNames: layout.proprio.names });
    return new ActionBlender(noEnsemble ? 1 : config.chunk, config.ensemble_k);
  }

  /** This tick's action from its new (denormalized) chunk and the example it was predicted from. */
  step(chunk: Float32Array, ex: Parameters<typeof waypointAction>[1]): ActionData {
    return this.waypoint ? this.track(waypointAction(chunk, ex, this.waypoint.proprioNames, this.waypoint.config, this.last.gripper)) : this.blend(chunk);
  }

  reset(): void {
    this.chunks = [];
    this.tick = 0;
    this.last = holdAction(0);
  }

  /** This tick's action from its new chunk and the older ones still covering it. */
  blend(chunk: Float32Array): ActionData {
    this.last = ensembleStep(this.chunks, this.tick, chunk, this.horizon, this.k);
    this.tick++;
    return this.last;
  }

  /** A tick whose command was decided from the newest chunk alone (waypoint tracking); null (no pose to track from) holds. */
  private track(action: ActionData | null): ActionData {
    if (!action) return this.hold();
    this.tick++;
    this.last = action;
    return action;
  }

  /** A blind tick: hold still with the last gripper command. Chunks still age: what was planned before an outage is stale after it. */
  hold(): ActionData {
    this.tick++;
    this.last = holdAction(this.last.gripper);
    return this.last;
  }
}

/**
 * ACT's temporal ensembling: keep the chunks that still cover this tick and
 * average their predictions for it with weights exp(−k·i), i = 0 for the oldest.
 */
export function ensembleStep(chunks: { tick: number; actions: Float32Array }[], tick: number, chunk: Float32Array, H: number, k: number): ActionData {
  chunks.push({ tick, actions: chunk });
  while (chunks.length && tick - chunks[0].tick >= H) chunks.shift();
  const a = new Float64Array(ACTION_DIM);
  let total = 0;
  chunks.forEach((c, i) => {
    const w = Math.exp(-k * i);
    const off = (tick - c.tick) * ACTION_DIM;
    for (let j = 0; j < ACTION_DIM; j++) a[j] += w * c.actions[off + j];
    total += w;
  });
  for (let j = 0; j < ACTION_DIM; j++) a[j] /= total;
  return { linear: [a[0], a[1], a[2]], angular: [a[3], a[4], a[5]], gripper: Math.min(1, Math.max(0, a[6])) };
}
