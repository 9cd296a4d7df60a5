// Tuning before the first step (policy/train.ts): a WebGPU run that tunes its
// kernels trains with the kernels a later run finds cached, so both write the
// same checkpoint, and the tuning cost is paid once per machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadCheckpoint, trainPolicy } from '../../policy/index.ts';
import { TINY, makeTinyDataset, optionalGpu } from './fixtures.ts';

const gpu = await optionalGpu('tuning before training');
const saved = { mode: process.env.SENSEACT_TUNE, cache: process.env.SENSEACT_TUNE_CACHE };
afterEach(() => {
  for (const [name, value] of [['SENSEACT_TUNE', saved.mode], ['SENSEACT_TUNE_CACHE', saved.cache]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

it.skipIf(!gpu)('a run that tunes first writes the checkpoint a later run writes with the choices cached', async () => {
  const data = await makeTinyDataset(2, 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-tune-train-'));
  process.env.SENSEACT_TUNE = 'tune';
  process.env.SENSEACT_TUNE_CACHE = path.join(dir, 'kernels.json');
  const config = { ...TINY, train: { ...TINY.train, steps: 20, val_fraction: 0.2, val_every: 10 } };
  const logs: string[][] = [[], []];
  const outs = [0, 1].map((i) => path.join(dir, `run${i}.safetensors`));
  for (const i of [0, 1]) await trainPolicy({ data, out: outs[i], backend: 'webgpu', resume: false, config, log: (line) => logs[i].push(line) });
  expect(logs[0].join('\n')).toMatch(/tuned the kernels of [1-9]\d* shapes/);
  expect(logs[1].join('\n')).toMatch(/every shape's choice was cached/);
  expect(fs.existsSync(process.env.SENSEACT_TUNE_CACHE)).toBe(true);
  const [a, b] = outs.map((f) => loadCheckpoint(f).tensors);
  for (const name of Object.keys(a)) expect(Buffer.from(b[name].data.buffer).equals(Buffer.from(a[name].data.buffer)), name).toBe(true);
}, 180_000);
