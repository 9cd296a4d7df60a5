// How much the trained network actually reads each modality: the mean change
// of its (normalized) action chunk when that modality alone is masked, over
// held-out frames. A fused policy can fit a few demonstrations from one easy
// input and ignore the rest (modality competition: Wang et al., 2020,
// "What makes training multi-modal classification networks hard?"); the
// training loss does not show it, and the policy then fails on new scenes
// while looking well fitted. Measured here after every training run, so the
// summary says it plainly (e.g. "camera 0.000" for a network that learned to
// ignore its camera).
import { noGrad, tidy, type Backend } from '../kernels/index.ts';
import { MASK_ORDER } from '../sensors/index.ts';
import type { PolicyConfig } from './config.ts';
import { allocFeatureBatch, encodeExample, type FeatureDims, type Normalizer, type PolicyExample } from './features.ts';
import { toInputs, type MultimodalPolicy } from './network.ts';

/** At most this many frames, spread evenly over `examples`: enough for two decimals, a second or two on a CPU driver. */
const MAX_FRAMES = 256;

export async function modalityInfluence(
  model: MultimodalPolicy,
  examples: readonly PolicyExample[],
  config: PolicyConfig,
  norm: Normalizer,
  dims: FeatureDims,
  backend: Backend,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const picked = examples.length <= MAX_FRAMES ? examples : Array.from({ length: MAX_FRAMES }, (_, i) => examples[Math.floor((i * examples.length) / MAX_FRAMES)]);
  if (picked.length === 0) return out;
  const batch = allocFeatureBatch(picked.length, config, dims);
  picked.forEach((ex, b) => encodeExample(ex, b, batch, config, norm, dims, null));
  const predict = async (mask: Float32Array) => {
    const y = noGrad(() => tidy(() => model.forward(toInputs({ ...batch, mask }, config, dims, backend))));
    const data = await y.toArray();
    y.dispose();
    return data;
  };
  const base = await predict(batch.mask);
  for (let m = 0; m < MASK_ORDER.length; m++) {
    const modality = MASK_ORDER[m];
    if (!config.modalities.includes(modality)) {
      out[modality] = 0;
      continue;
    }
    const mask = batch.mask.slice();
    for (let b = 0; b < picked.length; b++) mask[b * MASK_ORDER.length + m] = 1;
    const masked = await predict(mask);
    let sum = 0;
    for (let i = 0; i < base.length; i++) sum += Math.abs(masked[i] - base[i]);
    out[modality] = sum / base.length;
  }
  return out;
}
