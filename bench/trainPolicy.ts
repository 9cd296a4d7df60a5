// The default policy network as a benchmark workload: one training step
// (forward, backward, AdamW with clipping) at batch 32 and one inference tick
// at batch 1, on synthetic inputs of the simulator's sensor layout. Shared by
// `bench train`, `bench infer` and `senseact tune` (which runs both once so
// every kernel shape the policy uses is seen and tuned).
import { AdamW, Tensor, noGrad, tidy, type Backend } from '../kernels/index.ts';
import { MultimodalPolicy, allocFeatureBatch, chunkL1, defaultConfig, type FeatureBatch, type FeatureDims, type PolicyConfig } from '../policy/index.ts';
import { ACTION_DIM } from '../policy/features.ts';
import { toInputs } from '../policy/network.ts';

/**
 * Feature sizes of the simulator's sensors (sim/): two 4×4 three-axis tactile
 * pads (96), a 6-channel e-nose with the default 8-sample history plus its
 * change (6 × 9 = 54), the proprio vector (8 joints × position, velocity,
 * effort + gripper opening and force = 26) and the default motion history
 * (10 entries × 8 joint positions = 80).
 */
export const SIM_DIMS: FeatureDims = { tactile: 96, smellChannels: 6, smell: 54, proprio: 26 + 80, history: 80 };

/** Deterministic synthetic inputs in the ranges the normalized features have. */
export function syntheticBatch(size: number, config: PolicyConfig, dims: FeatureDims, seed = 1): FeatureBatch {
  const batch = allocFeatureBatch(size, config, dims);
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  for (const arr of [batch.image, batch.tactile, batch.smell, batch.proprio, batch.actions]) for (let i = 0; i < arr.length; i++) arr[i] = rand() * 2 - 1;
  batch.mask.fill(0);
  batch.actionValid.fill(1);
  return batch;
}

export interface PolicyWorkload {
  readonly model: MultimodalPolicy;
  readonly config: PolicyConfig;
  readonly dims: FeatureDims;
  /** One training step at the training batch; resolves once the loss is read back. */
  trainStep(): Promise<number>;
  /** One inference tick at batch 1: upload, forward, read the action chunk. */
  tick(): Promise<Float32Array>;
  dispose(): void;
}

export function policyWorkload(backend: Backend, options: { config?: PolicyConfig; dims?: FeatureDims; batch?: number } = {}): PolicyWorkload {
  const config = options.config ?? defaultConfig();
  const dims = options.dims ?? SIM_DIMS;
  const B = options.batch ?? config.train.batch_size;
  const model = new MultimodalPolicy(config, dims, backend);
  const opt = new AdamW(model.parameters(), { lr: config.train.lr, weightDecay: config.train.weight_decay, clipNorm: config.train.clip_norm });
  const train = syntheticBatch(B, config, dims, 1);
  const one = syntheticBatch(1, config, dims, 2);
  return {
    model,
    config,
    dims,
    async trainStep() {
      const loss = tidy(() => {
        const inputs = toInputs(train, config, dims, backend);
        const target = Tensor.fromArray(train.actions, [B, config.chunk, ACTION_DIM], backend);
        const valid = Tensor.fromArray(train.actionValid, [B, config.chunk], backend);
        const l = chunkL1(model.forward(inputs), target, valid);
        l.backward();
        opt.step(config.train.lr);
        return l;
      });
      const v = await loss.item();
      loss.dispose();
      return v;
    },
    async tick() {
      const out = noGrad(() => tidy(() => model.forward(toInputs(one, config, dims, backend))));
      const v = await out.toArray();
      out.dispose();
      return v;
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}
