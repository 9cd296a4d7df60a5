// Inference: weights and buffers stay on the device, one tick is one
// submission (forward + readback), and overlapping action chunks are blended
// by ACT's temporal ensembling. Latency is recorded per tick.
import { createBackend, noGrad, tidy, type CreatedBackend } from '../kernels/index.ts';
import { seededRandom, type ActionData, type Example, type Frame } from '../sensors/index.ts';
import { loadCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import type { Modality } from './config.ts';
import { ACTION_DIM, allocFeatureBatch, denormalizeAction, encodeExample } from './features.ts';
import { MultimodalPolicy, toInputs } from './network.ts';
import { ActionBlender, isBlind, type Controller } from './controller.ts';
import { exampleFromFrame } from './observe.ts';
import { EpisodeContext } from './context.ts';

export interface RunnerOptions {
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Modalities to hide from the policy at run time (ablations, or a sensor known bad). */
  mask?: readonly Modality[];
  /** Turn temporal ensembling off: execute each chunk's first action only. */
  noEnsemble?: boolean;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const HYPOTHESIS_SEED = 0x5eed;

/** Index k drawn with probability softmax(scores)_k, from a uniform u in [0, 1). */
export function drawHypothesis(scores: ArrayLike<number>, u: number): number {
  let top = -Infinity;
  for (let i = 0; i < scores.length; i++) top = Math.max(top, scores[i]);
  const p = Array.from(scores, (s) => Math.exp(s - top));
  let acc = 0;
  const total = p.reduce((a, b) => a + b, 0);
  for (let k = 0; k < p.length; k++) {
    acc += p[k] / total;
    if (u < acc) return k;
  }
  return p.length - 1;
}

export class PolicyRunner implements Controller {
  private episodes = 0;
  private draw: () => number = seededRandom(HYPOTHESIS_SEED);
  readonly kind = 'multimodal';
  readonly latenciesMs: number[] = [];
  private readonly batch;
  private readonly context;
  private readonly blender: ActionBlender;

  private constructor(
    readonly meta: CheckpointMeta,
    readonly model: MultimodalPolicy,
    private readonly created: CreatedBackend,
    private readonly options: RunnerOptions,
  ) {
    this.batch = allocFeatureBatch(1, meta.config, meta.dims);
    this.context = new EpisodeContext(meta.config, meta.layout);
    this.blender = ActionBlender.for(meta, options.noEnsemble);
  }

  static async load(file: string, options: RunnerOptions = {}): Promise<PolicyRunner> {
    const { tensors, meta } = loadCheckpoint(file);
    let created = await createBackend({ prefer: options.backend ?? 'auto' });
    // One tick is a batch of one: on a software rasterizer (lavapipe) the CPU
    // backend runs it faster (bench infer, default network: p50 4.2 ms vs
    // 10.3 ms on lavapipe), so 'auto' only keeps WebGPU on a real GPU.
    // Training, with batches, stays on WebGPU.
    if ((options.backend ?? 'auto') === 'auto' && created.gpu?.softwareDriver) {
      created.dispose();
      created = await createBackend({ prefer: 'cpu' });
    }
    try {
      const model = new MultimodalPolicy(meta.config, meta.dims, created.backend);
      try {
        model.loadStateDict(tensors);
      } catch (err) {
        model.dispose();
        throw new Error(`${file}: ${(err as Error).message} (checkpoint does not match its config)`);
      }
      const runner = new PolicyRunner(meta, model, created, options);
      await runner.warmUp();
      return runner;
    } catch (err) {
      created.dispose();
      throw err;
    }
  }

  get backendName(): string {
    return this.created.backend.name;
  }
  get layout(): CheckpointMeta['layout'] {
    return this.meta.layout;
  }
  get trainedSeeds(): readonly number[] {
    return this.meta.training?.seeds ?? [];
  }


  /** Compiles every pipeline once so the first real tick is not slow. */
  private async warmUp(): Promise<void> {
    const frame: Frame = { t_ns: 0, slots: {}, masked: [] };
    await this.predict(frame);
    this.latenciesMs.length = 0;
    this.context.reset();
  }

  reset(): void {
    this.blender.reset();
    this.context.reset();
    // Each episode draws its hypotheses from its own fixed stream: an evaluation repeats exactly.
    this.draw = seededRandom(HYPOTHESIS_SEED + 7919 * ++this.episodes);
  }

  /** The denormalized chunk [chunk × 7] for one frame; the frame also enters the motion history, so call it once per tick. */
  async predict(frame: Frame): Promise<Float32Array> {
    return (await this.infer(frame)).chunk;
  }

  /** predict(), with the example the chunk was predicted from (waypoint tracking reads its pose). */
  async infer(frame: Frame): Promise<{ ex: Example; chunk: Float32Array }> {
    const { config, dims, normalizer } = this.meta;
    const ex = this.context.observe(exampleFromFrame(frame, this.meta, this.options.mask));
    encodeExample(ex, 0, this.batch, config, normalizer, dims, null);
    // One readback per tick: the head's output holds every hypothesis and, after them, their scores.
    const out = noGrad(() => tidy(() => this.model.forwardHead(toInputs(this.batch, config, dims, this.created.backend))));
    const head = await out.toArray();
    out.dispose();
    const C = config.chunk * ACTION_DIM;
    const K = config.hypotheses;
    const k = K > 1 ? drawHypothesis(head.subarray(K * C), this.draw()) : 0;
    const normalized = head.subarray(k * C, (k + 1) * C);
    const chunk = new Float32Array(config.chunk * ACTION_DIM);
    const row = new Float32Array(ACTION_DIM);
    for (let k = 0; k < config.chunk; k++) chunk.set(denormalizeAction(normalizer, normalized, k * ACTION_DIM, row), k * ACTION_DIM);
    return { ex, chunk };
  }

  /** One control tick: predict a chunk, blend it with the chunks still covering this tick. */
  async act(frame: Frame): Promise<ActionData> {
    const t0 = performance.now();
    // Nothing received yet (or a total outage): hold, and keep the blank frame out of the chunks and the history.
    if (isBlind(frame, this.meta.layout)) return this.blender.hold();
    const { ex, chunk } = await this.infer(frame);
    const a = this.blender.step(chunk, ex);
    this.latenciesMs.push(performance.now() - t0);
    return a;
  }

  latency(): { p50: number; p99: number } {
    return { p50: percentile(this.latenciesMs, 50), p99: percentile(this.latenciesMs, 99) };
  }

  dispose(): void {
    this.model.dispose();
    this.created.dispose();
  }
}
