// End-to-end: a small CNN learns a synthetic regression on both backends, the
// two loss curves agree step by step, and GPU memory stays flat.
import { afterAll, describe, expect, it } from 'vitest';
import { AdamW, CpuBackend, Tensor, createBackend, webgpuRequired, type Backend, type CreatedBackend } from '../../kernels/index.ts';
import { TinyCnn, syntheticData, trainStep } from './tinycnn.ts';
import { GpuStorage, WebGpuBackend } from '../../kernels/webgpu/WebGpuBackend.ts';

async function gpuBackend(): Promise<CreatedBackend | null> {
  try {
    return await createBackend({ prefer: 'webgpu' });
  } catch (err) {
    if (webgpuRequired()) throw err;
    console.warn(`[senseact tests] WebGPU training tests skipped: ${(err as Error).message}`);
    return null;
  }
}

const gpu = await gpuBackend();
afterAll(() => gpu?.dispose());

const STEPS = 400;
const cosine = (s: number) => 1e-2 * 0.5 * (1 + Math.cos((Math.PI * s) / STEPS));

async function train(backend: Backend, steps: number, record: number): Promise<{ curve: number[]; final: number }> {
  const model = new TinyCnn(backend);
  const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
  const { x, y } = syntheticData(32, backend);
  const curve: number[] = [];
  let final = NaN;
  for (let s = 0; s < steps; s++) {
    const loss = trainStep(model, opt, x, y, cosine(s));
    if (s < record) curve.push(await loss.item());
    if (s === steps - 1) final = await loss.item();
    loss.dispose();
  }
  for (const t of [x, y]) t.dispose();
  opt.dispose();
  model.dispose();
  return { curve, final };
}

describe('training a small CNN', () => {
  it('learns the regression to a loss below 1e-3 on the CPU backend', async () => {
    const { curve, final } = await train(new CpuBackend(), STEPS, 1);
    expect(curve[0]).toBeGreaterThan(0.1);
    expect(final).toBeLessThan(1e-3);
  });

  it.skipIf(!gpu)('learns it on WebGPU too, and the first 20 losses match the CPU curve', async () => {
    const [onGpu, onCpu] = [await train(gpu!.backend, STEPS, 20), await train(new CpuBackend(), 20, 20)];
    expect(onGpu.final).toBeLessThan(1e-3);
    for (let s = 0; s < 20; s++) {
      // Same seed, same init, same data: only float summation order differs.
      expect(Math.abs(onGpu.curve[s] - onCpu.curve[s])).toBeLessThanOrEqual(1e-3 * onCpu.curve[s] + 1e-6);
    }
    // The curve actually descends (a constant curve would also "match").
    expect(onGpu.curve[19]).toBeLessThan(onGpu.curve[0] * 0.5);
  });

  it.skipIf(!gpu)('live GPU bytes and bind groups after 1000 overlapped steps equal those after step 10', async () => {
    const backend = gpu!.backend as WebGpuBackend;
    const model = new TinyCnn(backend, 5);
    const opt = new AdamW(model.parameters(), { lr: 1e-3, clipNorm: 1 });
    const { x, y } = syntheticData(2, backend, 9);
    let at10 = { inUseBytes: -1, allocatedBytes: -1, bindGroups: -1 };
    for (let s = 1; s <= 1000; s++) {
      trainStep(model, opt, x, y, 1e-3).dispose();
      // As training does: the device runs step s while step s + 1 is recorded.
      await backend.settle();
      if (s === 10) at10 = { ...backend.memory(), bindGroups: backend.bindGroupsMade };
    }
    const madeBy1000 = backend.bindGroupsMade;
    const lastLoss = trainStep(model, opt, x, y, 1e-3);
    expect(Number.isFinite(await lastLoss.item())).toBe(true);
    lastLoss.dispose();
    const at1000 = backend.memory();
    expect(at10.inUseBytes).toBeGreaterThan(0);
    expect(at1000.inUseBytes).toBe(at10.inUseBytes);
    expect(at1000.allocatedBytes).toBe(at10.allocatedBytes);
    // Every step binds the same pooled buffers in the same order: its bind groups are all cached.
    expect(at10.bindGroups).toBeGreaterThan(0);
    expect(madeBy1000).toBe(at10.bindGroups);
    for (const t of [x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  }, 180_000);

  it.skipIf(!gpu)('settle() raises an error of the work it submitted at the next settle, as sync() would', async () => {
    // A device of its own: the error stays with the backend that raised it.
    const own = await createBackend({ prefer: 'webgpu' });
    try {
      const backend = own.backend as WebGpuBackend;
      const gone = backend.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      gone.destroy();
      backend.fill(new GpuStorage(gone, 4), 1); // submitting a destroyed buffer is a validation error
      await backend.settle(); // submits it; nothing before it to wait for
      await expect(backend.settle()).rejects.toThrow(/WebGPU error: .*destroyed/i);
    } finally {
      own.dispose();
    }
  }, 60_000);

  it('readLater() fetches the values the view held when it was called, after later work has overwritten them', async () => {
    for (const backend of [new CpuBackend(), ...(gpu ? [gpu.backend] : [])]) {
      const t = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3], backend);
      const row = t.slice(0, 1, 2); // a strided view: the second row
      const later = backend.readLater(row);
      backend.fill(t.storage, 9); // queued after the copy
      await backend.settle();
      expect(Array.from(await later()), backend.name).toEqual([4, 5, 6]);
      expect(Array.from(await t.toArray()), backend.name).toEqual([9, 9, 9, 9, 9, 9]);
      t.dispose();
    }
  });

  it('a forward pass without backward leaves nothing on the tape or in memory after tidy', async () => {
    const backend = new CpuBackend();
    const model = new TinyCnn(backend);
    const x = Tensor.random([2, 8, 8, 3], 'uniform', 1, backend);
    const before = backend.memory().inUseBytes;
    const { tidy, tapeLength } = await import('../../kernels/index.ts');
    tidy(() => {
      model.forward(x).sum();
    });
    expect(tapeLength()).toBe(0);
    expect(backend.memory().inUseBytes).toBe(before);
    x.dispose();
    model.dispose();
  });
});
