import { afterAll, describe, expect, it } from 'vitest';
import { smokeCpu, smokeWebGpu, runSmoke } from '../../kernels/index.ts';
import { testGpu } from '../helpers/gpu.ts';

const gpu = await testGpu();
afterAll(() => gpu?.release());

describe('WGSL smoke kernel', () => {
  it.skipIf(!gpu)('matches the CPU reference on a length that is not a multiple of the workgroup', async () => {
    const result = await runSmoke(gpu!.device, 1001);
    expect(result.n).toBe(1001);
    expect(result.maxAbsError).toBeLessThanOrEqual(1e-5);
    expect(result.ok).toBe(true);
  });

  it.skipIf(!gpu)('computes every element (no element left unwritten)', async () => {
    const x = new Float32Array(130).map((_, i) => i / 10);
    const y = await smokeWebGpu(gpu!.device, x, 2, 1);
    const ref = smokeCpu(x, 2, 1);
    expect(y.length).toBe(130);
    for (let i = 0; i < 130; i++) expect(Math.abs(y[i] - ref[i])).toBeLessThan(1e-5);
    // The last element sits in a partially filled workgroup.
    expect(y[129]).toBeCloseTo(Math.tanh(2 * 12.9 + 1), 5);
  });

  it('the CPU reference is the function it claims', () => {
    const y = smokeCpu(new Float32Array([0, 1, -1]), 0.5, 0.25);
    expect(Array.from(y)).toEqual([0.25, 0.75, -0.25].map((v) => Math.fround(Math.tanh(v))));
  });
});
