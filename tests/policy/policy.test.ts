// The policy on real components: MCAP logs written through sensors/, trained
// with kernels/ on both backends, checkpoints read by an independent parser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, Tensor, noGrad, tidy } from '../../kernels/index.ts';
import { MODALITIES, MultimodalPolicy, PolicyRunner, defaultConfig, loadCheckpoint, metaPath, trainPolicy, type PolicyInputs } from '../../policy/index.ts';
import { TINY, firstLosses, makeTinyDataset, optionalGpu } from './fixtures.ts';

const gpu = await optionalGpu('policy tests');

let data: string;
let out: string;
beforeAll(async () => {
  data = await makeTinyDataset(2, 4);
  out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-ckpt-')), 'policy.safetensors');
});

/** An independent safetensors reader, written from the format's specification. */
function readSafetensors(file: string): Map<string, { dtype: string; shape: number[]; values: Float32Array }> {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { dtype: string; shape: number[]; values: Float32Array }>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = h.data_offsets;
    const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + n + a, b - a);
    const values = new Float32Array((b - a) / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
    out.set(name, { dtype: h.dtype, shape: h.shape, values });
  }
  return out;
}

describe('policy training', () => {
  it('overfits a tiny dataset to near-zero loss and writes checkpoint, config and loss curve', async () => {
    const curve: number[] = [];
    const r = await trainPolicy({ data, out, backend: 'cpu', resume: false, config: TINY, onProgress: (p) => p.loss !== null && curve.push(p.loss) });
    expect(curve[0]).toBeGreaterThan(0.3);
    expect(r.finalLoss).toBeLessThan(0.05);
    expect(r.finalLoss).toBeLessThan(curve[0] * 0.1);
    expect(fs.existsSync(out)).toBe(true);
    expect(fs.existsSync(metaPath(out))).toBe(true);
    expect(fs.readFileSync(r.curve, 'utf8')).toMatch(/^<svg[\s\S]*<path d="M/);
    // The summary says how much the network reads each modality; the tiny dataset's actions are
    // functions of time that every stream carries, so the fitted network reads some, and none is NaN.
    expect(Object.keys(r.influence!).sort()).toEqual(['camera', 'proprio', 'smell', 'tactile']);
    for (const v of Object.values(r.influence!)) expect(v).toBeGreaterThanOrEqual(0);
    expect(Math.max(...Object.values(r.influence!))).toBeGreaterThan(0.01);
    // No temp or training-state files are left beside the outputs.
    expect(fs.readdirSync(path.dirname(out)).sort()).toEqual(['policy.json', 'policy.loss.svg', 'policy.safetensors']);
  }, 120_000);

  it('reports no influence for a modality the network has no encoder for, and some for one it reads', async () => {
    const o = path.join(path.dirname(out), 'influence', 'p.safetensors');
    const r = await trainPolicy({ data, out: o, backend: 'cpu', resume: false, config: { ...TINY, modalities: ['camera', 'proprio'], train: { ...TINY.train, steps: 20 } } });
    expect(r.influence!.smell).toBe(0);
    expect(r.influence!.tactile).toBe(0);
    expect(r.influence!.proprio).toBeGreaterThan(0);
    expect(loadCheckpoint(o).meta.training!.influence).toEqual(r.influence);
  }, 120_000);

  it('the checkpoint round-trips bit-exactly and an independent safetensors reader agrees', async () => {
    const { tensors, meta } = loadCheckpoint(out);
    const independent = readSafetensors(out);
    expect([...independent.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const other = independent.get(name)!;
      expect(other.dtype).toBe('F32');
      expect(other.shape).toEqual(t.shape);
      expect(Buffer.from(other.values.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    }
    // Load into a model and read back: the same bits.
    const backend = new CpuBackend();
    const model = new MultimodalPolicy(meta.config, meta.dims, backend);
    model.loadStateDict(tensors);
    const state = await model.stateDict();
    for (const [name, t] of Object.entries(tensors)) expect(Buffer.from(state[name].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    model.dispose();
  });

  it('refuses a corrupt or mismatched checkpoint with a message that says what is wrong', () => {
    const dir = path.dirname(out);
    const bytes = fs.readFileSync(out);
    const truncated = path.join(dir, 'truncated.safetensors');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    fs.copyFileSync(metaPath(out), metaPath(truncated));
    expect(() => loadCheckpoint(truncated)).toThrow(/truncated\.safetensors: .*(do not hold|not covered)/);

    const hugeHeader = path.join(dir, 'huge.safetensors');
    const b2 = Buffer.from(bytes);
    b2.writeBigUInt64LE(1n << 40n, 0);
    fs.writeFileSync(hugeHeader, b2);
    fs.copyFileSync(metaPath(out), metaPath(hugeHeader));
    expect(() => loadCheckpoint(hugeHeader)).toThrow(/header size .* exceeds/);

    const noMeta = path.join(dir, 'nometa.safetensors');
    fs.copyFileSync(out, noMeta);
    expect(() => loadCheckpoint(noMeta)).toThrow(/nometa\.json is missing/);

    const badMeta = path.join(dir, 'badmeta.safetensors');
    fs.copyFileSync(out, badMeta);
    const meta = JSON.parse(fs.readFileSync(metaPath(out), 'utf8'));
    meta.config.width = 'wide';
    fs.writeFileSync(metaPath(badMeta), JSON.stringify(meta));
    expect(() => loadCheckpoint(badMeta)).toThrow(/badmeta\.json: config\.width/);

    // A checkpoint of the older format (absolute smell, no motion history) would be fed inputs it never saw.
    const old = path.join(dir, 'old.safetensors');
    fs.copyFileSync(out, old);
    const oldMeta = JSON.parse(fs.readFileSync(metaPath(out), 'utf8'));
    oldMeta.version = 1;
    fs.writeFileSync(metaPath(old), JSON.stringify(oldMeta));
    expect(() => loadCheckpoint(old)).toThrow(/old\.json: version: format version 1 is not 2 .*retrain/);
  });

  it('a checkpoint whose weights do not match its config is refused when loaded for inference', async () => {
    const dir = path.dirname(out);
    const other = path.join(dir, 'mismatch.safetensors');
    fs.copyFileSync(out, other);
    const meta = JSON.parse(fs.readFileSync(metaPath(out), 'utf8'));
    meta.config.width = 48;
    fs.writeFileSync(metaPath(other), JSON.stringify(meta));
    await expect(PolicyRunner.load(other, { backend: 'cpu' })).rejects.toThrow(/mismatch\.safetensors: state dict entry '.*' has shape \[.*\], the model expects \[.*\]/);
  });

  it('with any subset of modalities masked the outputs stay finite', async () => {
    const { meta, tensors } = loadCheckpoint(out);
    const backend = new CpuBackend();
    const model = new MultimodalPolicy(meta.config, meta.dims, backend);
    model.loadStateDict(tensors);
    const B = 16; // one row per subset of the four modalities
    const mask = new Float32Array(B * 4);
    for (let s = 0; s < B; s++) for (let m = 0; m < 4; m++) mask[s * 4 + m] = (s >> m) & 1;
    const { width, height } = meta.config.image;
    const result = noGrad(() =>
      tidy(() => {
        const inputs: PolicyInputs = {
          image: Tensor.random([B, height, width, 3], 'normal', 1, backend),
          tactile: Tensor.random([B, meta.dims.tactile], 'normal', 2, backend),
          smell: Tensor.random([B, meta.dims.smell], 'normal', 3, backend),
          proprio: Tensor.random([B, meta.dims.proprio], 'normal', 4, backend),
          mask: Tensor.fromArray(mask, [B, 4], backend),
        };
        return model.forward(inputs);
      }),
    );
    const values = await result.toArray();
    expect(values.length).toBe(B * meta.config.chunk * 7);
    expect(values.every(Number.isFinite)).toBe(true);
    // Masking changes the output (the mask is not ignored).
    const row = meta.config.chunk * 7;
    expect(values.slice(0, row)).not.toEqual(values.slice(15 * row, 16 * row));
    model.dispose();
  });

  it.skipIf(!gpu)('the first training losses on WebGPU and CPU match', async () => {
    const losses = await firstLosses(data, TINY, 5);
    expect(losses.cpu.length).toBe(5);
    for (let i = 0; i < 5; i++) expect(Math.abs(losses.webgpu[i] - losses.cpu[i])).toBeLessThanOrEqual(1e-3 * losses.cpu[i] + 1e-5);
  }, 120_000);

  it('resumes from a saved training state and ends where an uninterrupted run ends', async () => {
    const cfg = { ...TINY, train: { ...TINY.train, steps: 30, val_every: 10 } };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-resume-'));
    const whole = await trainPolicy({ data, out: path.join(dir, 'whole.safetensors'), backend: 'cpu', resume: false, config: cfg });
    // An interrupted run: stop after step 20 by throwing from the progress callback.
    const cut = path.join(dir, 'cut.safetensors');
    await expect(
      trainPolicy({ data, out: cut, backend: 'cpu', resume: false, config: cfg, onProgress: (p) => { if (p.step === 20) throw new Error('interrupted'); } }),
    ).rejects.toThrow('interrupted');
    expect(fs.existsSync(cut)).toBe(false);
    const resumed = await trainPolicy({ data, out: cut, backend: 'cpu', config: cfg });
    expect(resumed.resumedFrom).toBe(20);
    const a = loadCheckpoint(path.join(dir, 'whole.safetensors')).tensors;
    const b = loadCheckpoint(cut).tensors;
    for (const name of Object.keys(a)) expect(Buffer.from(b[name].data.buffer).equals(Buffer.from(a[name].data.buffer))).toBe(true);
    expect(resumed.finalLoss).toBe(whole.finalLoss);
  }, 120_000);

  it('the config is validated and names the bad field', () => {
    expect(() => defaultConfig({ chunk: 0 })).toThrow(/chunk/);
    expect(() => defaultConfig({ modalities: ['sonar'] })).toThrow(/modalities/);
    expect(defaultConfig().modalities).toEqual([...MODALITIES]);
  });
});
