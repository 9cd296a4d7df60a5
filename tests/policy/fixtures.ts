// A tiny recorded dataset for policy tests: real MCAP logs written through
// sensors/, from the synthetic stream mix (camera test cards, two tactile pads,
// an e-nose, proprio) with actions at the control rate. Actions and
// observations are smooth functions of time, so the mapping is learnable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createBackend, webgpuRequired, type CreatedBackend } from '../../kernels/index.ts';
import { trainPolicy } from '../../policy/index.ts';
import { LogWriter, syntheticMix, testCard } from '../../sensors/index.ts';

/** A policy small enough to train in seconds, no augmentation: what the policy tests train. */
export const TINY = {
  width: 32,
  layers: 1,
  heads: 2,
  ffn: 64,
  image: { width: 16, height: 16 },
  augment: { shift: 0, color_jitter: 0, tactile_noise: 0, smell_noise: 0, modality_dropout: 0 },
  train: { steps: 200, lr: 3e-3, warmup_steps: 10, batch_size: 16, val_fraction: 0, val_every: 1000 },
};

/** A WebGPU backend for the file's tests, or null (they skip, with why) unless CI requires WebGPU. Disposed after the file. */
export async function optionalGpu(what: string): Promise<CreatedBackend | null> {
  try {
    const gpu = await createBackend({ prefer: 'webgpu' });
    afterAll(() => gpu.dispose());
    return gpu;
  } catch (err) {
    if (webgpuRequired()) throw err;
    console.warn(`[senseact tests] WebGPU ${what} skipped: ${(err as Error).message}`);
    return null;
  }
}

/** Trains `steps` steps of `config` on `data` with each backend from the same start and returns the losses each reported. */
export async function firstLosses(data: string, config: object, steps: number): Promise<Record<'cpu' | 'webgpu', number[]>> {
  const losses: Record<'cpu' | 'webgpu', number[]> = { cpu: [], webgpu: [] };
  const base = config as typeof TINY;
  for (const backend of ['cpu', 'webgpu'] as const) {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-ckpt-')), `${backend}.safetensors`);
    await trainPolicy({ data, out, backend, resume: false, config: { ...base, train: { ...base.train, steps, val_every: 1000 } }, onProgress: (p) => p.loss !== null && losses[backend].push(p.loss) });
  }
  return losses;
}

/** `scene`: also a fixed scene camera (camera/scene) at the wrist camera's rate, showing the frames in reverse order. */
export async function makeTinyDataset(episodes = 2, seconds = 4, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-policy-')), scene = false): Promise<string> {
  const frames = [0, 1, 2, 3, 4, 5].map((p) => testCard(32, 32, p));
  for (let e = 0; e < episodes; e++) {
    const writer = await LogWriter.open(path.join(dir, `episode_${String(e).padStart(3, '0')}.mcap`), {
      meta: { task: 'synthetic', robot: 'synthetic', operator: 'test', seed: e, success: true, notes: '' },
      fsync: false,
    });
    for (const s of syntheticMix({ t0_ns: 1e9 * (1 + e * 100), action_hz: 10, camera_hz: 10, frames, scene_hz: scene ? 10 : 0 }, seconds)) {
      const r = writer.writeValid(s);
      if (!r.ok) throw r.error;
    }
    await writer.finalize({ success: true });
  }
  return dir;
}
