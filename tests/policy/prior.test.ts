// A vision prior (policy/prior.ts): the camera encoder learns where a thing is
// from labelled views, is saved and read back exactly, is refused with the
// reason when it is not a prior or does not fit, and starts a policy's camera
// encoder, frozen (its weights end as they began) or not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../kernels/index.ts';
import { PRIOR_FORMAT, encodeSafetensors, loadCheckpoint, loadVisionPrior, saveVisionPrior, trainPolicy, trainVisionPrior, type PriorViews } from '../../policy/index.ts';
import { TINY, makeTinyDataset } from './fixtures.ts';

const S = 16;

/** A bright 3×3 square on grey at a random place; the targets are its centre in [−1, 1] and a visible flag. */
function squares(count: number, seed: number): PriorViews {
  let a = seed;
  const rand = () => ((a = (a * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const images = new Uint8Array(count * S * S * 3).fill(90);
  const targets = new Float32Array(count * 3);
  const weights = new Float32Array(count * 3).fill(1);
  for (let n = 0; n < count; n++) {
    const cx = 1 + Math.floor(rand() * (S - 2));
    const cy = 1 + Math.floor(rand() * (S - 2));
    for (let y = cy - 1; y <= cy + 1; y++) for (let x = cx - 1; x <= cx + 1; x++) images.fill(240, ((n * S + y) * S + x) * 3, ((n * S + y) * S + x) * 3 + 3);
    targets.set([((cx + 0.5) / S) * 2 - 1, ((cy + 0.5) / S) * 2 - 1, 1], n * 3);
  }
  return { images, targets, weights, count, width: S, height: S };
}

const OPTS = { task: 'synthetic', landmarks: ['square'], scaleM: 0.2, perLandmark: 3, width: TINY.width, batch: 32, lr: 3e-3, seed: 0, colorJitter: 0 };

let dir: string;
let prior: string;
let data: string;
let trained: Awaited<ReturnType<typeof trainVisionPrior>>;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-prior-'));
  prior = path.join(dir, 'prior.safetensors');
  trained = await trainVisionPrior(squares(400, 1), { ...OPTS, steps: 300, backend: new CpuBackend() });
  saveVisionPrior(prior, trained.tensors, trained.meta);
  data = await makeTinyDataset(2, 3);
}, 180_000);

describe('vision prior', () => {
  it('learns where the square is, on views it did not train on', async () => {
    // Predicting the mean place everywhere scores about 0.33 (|x| and |y| of a uniform spread) on the offsets.
    const untrained = await trainVisionPrior(squares(400, 1), { ...OPTS, steps: 1, lr: 1e-9, backend: new CpuBackend() });
    expect(untrained.meta.val_loss!).toBeGreaterThan(0.25);
    expect(trained.meta.val_loss!).toBeLessThan(0.12);
    expect(trained.meta.val_error_m!).toBeLessThan(untrained.meta.val_error_m! / 3);
    expect(trained.meta.image_stats.mean[0]).toBeCloseTo((90 * 247 + 240 * 9) / 256 / 255, 2);
  });

  it('is saved and read back bit for bit, encoder only', () => {
    const { encoder, meta } = loadVisionPrior(prior);
    expect(meta).toEqual(trained.meta);
    const names = Object.keys(trained.tensors).filter((n) => n.startsWith('enc_camera.'));
    expect(Object.keys(encoder).sort()).toEqual(names.sort());
    for (const n of names) expect(Buffer.from(encoder[n].data.buffer).equals(Buffer.from(trained.tensors[n].data.buffer))).toBe(true);
  });

  it('refuses what is not a prior, a corrupt one, and bad metadata, saying which', async () => {
    const policy = path.join(dir, 'policy.safetensors');
    await trainPolicy({ data, out: policy, backend: 'cpu', resume: false, config: { ...TINY, train: { ...TINY.train, steps: 2 } } });
    expect(() => loadVisionPrior(policy)).toThrow(/not a vision prior \(format "senseact-policy", expected senseact-vision-prior\)/);
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, fs.readFileSync(prior).subarray(0, 2000));
    expect(() => loadVisionPrior(cut)).toThrow(/cut\.safetensors/);
    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, encodeSafetensors(trained.tensors, { format: PRIOR_FORMAT, meta: JSON.stringify({ ...trained.meta, width: -1 }) }));
    expect(() => loadVisionPrior(bad)).toThrow(/metadata width: /);
    expect(() => loadVisionPrior(path.join(dir, 'none.safetensors'))).toThrow(/no such vision prior/);
  }, 60_000);

  it('starts a policy camera encoder: frozen, its weights end as they began; not frozen, they train', async () => {
    const { encoder, meta } = loadVisionPrior(prior);
    const frozenOut = path.join(dir, 'frozen.safetensors');
    const freeOut = path.join(dir, 'free.safetensors');
    const cfg = (freeze: boolean) => ({ ...TINY, camera_prior: { path: prior, freeze }, train: { ...TINY.train, steps: 20 } });
    const frozen = await trainPolicy({ data, out: frozenOut, backend: 'cpu', resume: false, config: cfg(true) });
    await trainPolicy({ data, out: freeOut, backend: 'cpu', resume: false, config: cfg(false) });
    expect(Number.isFinite(frozen.finalLoss)).toBe(true);
    const a = loadCheckpoint(frozenOut);
    const b = loadCheckpoint(freeOut);
    for (const [name, t] of Object.entries(encoder)) {
      expect(Buffer.from(a.tensors[name].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    }
    expect(Object.entries(encoder).some(([name, t]) => !Buffer.from(b.tensors[name].data.buffer).equals(Buffer.from(t.data.buffer)))).toBe(true);
    // The policy reads its images as the prior was trained to: with the prior's pixel statistics.
    expect(a.meta.normalizer.image).toEqual(meta.image_stats);
  }, 120_000);

  it('a frozen encoder resumes from a saved training state to where an uninterrupted run ends', async () => {
    const cfg = { ...TINY, camera_prior: { path: prior, freeze: true }, train: { ...TINY.train, steps: 30, val_every: 10 } };
    const whole = path.join(dir, 'whole.safetensors');
    const cut = path.join(dir, 'cut-run.safetensors');
    const w = await trainPolicy({ data, out: whole, backend: 'cpu', resume: false, config: cfg });
    await expect(trainPolicy({ data, out: cut, backend: 'cpu', resume: false, config: cfg, onProgress: (p) => { if (p.step === 20) throw new Error('interrupted'); } })).rejects.toThrow('interrupted');
    const r = await trainPolicy({ data, out: cut, backend: 'cpu', config: cfg });
    expect(r.resumedFrom).toBe(20);
    expect(r.finalLoss).toBe(w.finalLoss);
  }, 120_000);

  it('refuses a prior that does not fit the policy, naming the mismatch', async () => {
    const out = path.join(dir, 'wide.safetensors');
    await expect(trainPolicy({ data, out, backend: 'cpu', resume: false, config: { ...TINY, width: 48, camera_prior: { path: prior } } })).rejects.toThrow(/has width 32, the policy's width is 48/);
    await expect(trainPolicy({ data, out, backend: 'cpu', resume: false, config: { ...TINY, image: { width: 24, height: 24 }, camera_prior: { path: prior } } })).rejects.toThrow(/trained on 16×16 images, the policy reads 24×24/);
    await expect(trainPolicy({ data, out, backend: 'cpu', resume: false, config: { ...TINY, modalities: ['proprio'], camera_prior: { path: prior } } })).rejects.toThrow(/this policy has no camera/);
  }, 60_000);
});
