// Action hypotheses (config.hypotheses, multiple-choice learning): where the
// same observation is followed by two different actions (stay, or move on),
// one L1-fit chunk predicts one of them or lands between, while K chunks
// with scores keep both and say how often each came.
import { describe, expect, it } from 'vitest';
import { AdamW, Tensor, createBackend, keep, tidy, type Backend } from '../../kernels/index.ts';
import { drawHypothesis, hypothesesLoss, loadController, trainPolicy } from '../../policy/index.ts';
import { makeTinyDataset, firstLosses, optionalGpu, TINY } from './fixtures.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cpu = (await createBackend({ prefer: 'cpu' })).backend;
const gpu = await optionalGpu('hypothesis loss');

/** Fits two free hypotheses and their scores to a label that is +1 three times in four and −1 otherwise, for the same input. */
async function fitBimodal(backend: Backend): Promise<{ values: number[]; p: number[] }> {
  const H = 2;
  const chunks = keep(Tensor.fromArray(Float32Array.from({ length: 2 * H * 7 }, (_, i) => (i < H * 7 ? 0.1 : -0.1)), [1, 2, H, 7], backend)).trainable();
  const logits = keep(Tensor.zeros([1, 2], backend)).trainable();
  const opt = new AdamW([chunks, logits], { lr: 0.05, weightDecay: 0 });
  const valid = keep(Tensor.fromArray([1, 1], [1, H], backend));
  for (let step = 0; step < 400; step++) {
    const label = step % 4 === 3 ? -1 : 1;
    tidy(() => hypothesesLoss(chunks, logits, Tensor.full([1, H, 7], label, backend), valid).backward());
    opt.step();
  }
  const c = await chunks.toArray();
  const l = await logits.toArray();
  opt.dispose();
  for (const t of [chunks, logits, valid]) t.dispose();
  const e = [Math.exp(l[0]), Math.exp(l[1])];
  return { values: [c[0], c[H * 7]], p: [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])] };
}

describe('action hypotheses', () => {
  for (const [name, backend] of [['cpu', cpu], ['webgpu', gpu?.backend ?? null]] as const) {
    (backend ? it : it.skip)(`keep both of a two-valued label and score them by frequency (${name})`, async () => {
      const { values, p } = await fitBimodal(backend!);
      // One hypothesis went to each value (which one is arbitrary)...
      const up = values[0] > values[1] ? 0 : 1;
      expect(values[up]).toBeCloseTo(1, 1);
      expect(values[1 - up]).toBeCloseTo(-1, 1);
      // ...and the scores say how often each came: 3 in 4 and 1 in 4.
      expect(p[up]).toBeGreaterThan(0.6);
      expect(p[up]).toBeLessThan(0.9);
    });
  }

  it('a hypothesis is drawn with the probability its score gives', () => {
    const scores = [Math.log(3), 0];
    const draws = Array.from({ length: 1000 }, (_, i) => drawHypothesis(scores, (i + 0.5) / 1000));
    expect(draws.filter((k) => k === 0).length).toBe(750);
    expect(drawHypothesis([0, 0, 0], 0.99)).toBe(2);
  });

  it('trains with two hypotheses on both backends from the same start, and the checkpoint runs', async () => {
    const data = await makeTinyDataset();
    const cfg = { ...TINY, hypotheses: 2 };
    if (gpu) {
      const losses = await firstLosses(data, cfg, 4);
      for (let i = 0; i < 4; i++) expect(losses.webgpu[i]).toBeCloseTo(losses.cpu[i], 3);
    }
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-hyp-')), 'p.safetensors');
    await trainPolicy({ data, out, backend: 'cpu', resume: false, config: { ...cfg, train: { ...TINY.train, steps: 20 } } });
    const meta = JSON.parse(fs.readFileSync(out.replace(/\.safetensors$/, '.json'), 'utf8'));
    expect(meta.config.hypotheses).toBe(2);
    const controller = await loadController(out, { backend: 'cpu' });
    expect(controller.kind).toBe('multimodal');
    controller.dispose();
  }, 120_000);
});
