// Several policies trained alike from different seeds, run as one: each
// predicts its chunk from the same frame and the controller tracks the
// element-wise median of their motion (the mean of the middle two for an even
// count) and the mean of their gripper column. From three demonstrations the
// training seed decides more than any setting measured (gentle-grasp: 0 to 49
// of 50 over six seeds), and each seed's failure is its own bias (one
// descends too low and behind the cup, another grips a row lower on the pad);
// a median of members keeps what most agree on. The gripper is the exception:
// its column is a rate (policy/waypoints.ts), and members agree on whether to
// let go long before they agree on the tick. A median opens only once half of
// them open on the same tick, and twelve find-smell members held the jar in
// the bin until the time ran out; a mean opens a little as soon as some do,
// the opening shows in every member's proprio, and the rest follow (13/50
// against 37/50 on the same seeds; docs/results.md, "The ensemble's gripper").
import type { ActionData, Frame } from '../sensors/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import { ActionBlender, isBlind, type Controller } from './controller.ts';
import { ACTION_DIM } from './features.ts';
import { PolicyRunner, percentile, type RunnerOptions } from './runner.ts';

/** The gripper's column in an action row ([dx, dy, dz, 0, 0, dyaw, gripper], or a twist and the gripper). */
const GRIPPER = 6;

export class EnsembleRunner implements Controller {
  readonly kind = 'ensemble';
  private readonly blender: ActionBlender;
  private readonly latenciesMs: number[] = [];

  private constructor(
    private readonly members: PolicyRunner[],
    noEnsemble = false,
  ) {
    // The members' chunks are blended over time as one policy's would be (or not, with noEnsemble).
    this.blender = ActionBlender.for(members[0].meta, noEnsemble);
  }

  static async load(files: readonly string[], options: RunnerOptions = {}): Promise<EnsembleRunner> {
    const members: PolicyRunner[] = [];
    try {
      for (const file of files) members.push(await PolicyRunner.load(file, options));
      const [first] = members;
      for (const [i, m] of members.entries()) {
        const why = mismatch(first.meta, m.meta);
        if (why) throw new Error(`${files[i]}: ${why} from ${files[0]}; an ensemble's members read the same inputs and predict the same actions`);
      }
      return new EnsembleRunner(members, options.noEnsemble);
    } catch (err) {
      for (const m of members) m.dispose();
      throw err;
    }
  }

  get layout(): CheckpointMeta['layout'] {
    return this.members[0].layout;
  }
  get trainedSeeds(): readonly number[] {
    return [...new Set(this.members.flatMap((m) => m.trainedSeeds))];
  }
  get backendName(): string {
    return this.members[0].backendName;
  }

  reset(): void {
    this.blender.reset();
    for (const m of this.members) m.reset();
  }

  async act(frame: Frame): Promise<ActionData> {
    const t0 = performance.now();
    if (isBlind(frame, this.layout)) return this.blender.hold();
    const outs = [];
    for (const m of this.members) outs.push(await m.infer(frame));
    const a = this.blender.step(combineChunks(outs.map((o) => o.chunk)), outs[0].ex);
    this.latenciesMs.push(performance.now() - t0);
    return a;
  }

  latency(): { p50: number; p99: number } {
    return { p50: percentile(this.latenciesMs, 50), p99: percentile(this.latenciesMs, 99) };
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}

/** The members' chunks as one: the element-wise median of each row's motion, the mean of its gripper column. */
export function combineChunks(chunks: readonly Float32Array[]): Float32Array {
  const out = medianChunk(chunks);
  for (let i = GRIPPER; i < out.length; i += ACTION_DIM) {
    let sum = 0;
    for (const c of chunks) sum += c[i];
    out[i] = sum / chunks.length;
  }
  return out;
}

/** Element-wise median of equally long chunks (the mean of the middle two for an even count). */
export function medianChunk(chunks: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(chunks[0].length);
  const v = new Float64Array(chunks.length);
  const mid = chunks.length >> 1;
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < chunks.length; k++) v[k] = chunks[k][i];
    v.sort();
    out[i] = chunks.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  }
  return out;
}

/** Why two members cannot be one ensemble, or null. */
function mismatch(a: CheckpointMeta, b: CheckpointMeta): string | null {
  if (a.config.kind !== 'multimodal' || b.config.kind !== 'multimodal') return 'a nearest-neighbour table cannot join an ensemble';
  if (JSON.stringify(a.config.action) !== JSON.stringify(b.config.action)) return 'its action settings differ';
  if (a.config.chunk !== b.config.chunk) return 'its chunk length differs';
  if (JSON.stringify(inputs(a)) !== JSON.stringify(inputs(b))) return 'it reads other streams or shapes';
  return null;
}

/** What a member reads: its streams, their shapes and names (not, say, whether its layout recorded the pads' grids). */
function inputs(m: CheckpointMeta): unknown {
  const { camera, scene_camera, image, tactile, smell, proprio, action } = m.layout;
  return { camera, scene_camera, image, tactile: { streams: tactile.streams, taxels: tactile.taxels }, smell, proprio, action, modalities: m.config.modalities, dims: m.dims };
}
