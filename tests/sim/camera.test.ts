// The wrist camera renders the real scene with three's WebGPURenderer on Dawn.
import { describe, expect, it } from 'vitest';
import { SimEnv, zeroAction, type CameraData, type Sample } from '../../sim/index.ts';
import { createNodeCamera } from '../../sim/camera-node.ts';
import { testGpu } from '../helpers/gpu.ts';

const gpu = await testGpu();
gpu?.release();

const frames = (ss: Sample[]) => ss.filter((s) => s.stream === 'camera/wrist');
const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

describe.skipIf(!gpu)('wrist camera', () => {
  it('renders 96×96 RGB at 30 Hz, still when the robot is still, different when it moves', async () => {
    const camera = await createNodeCamera();
    const env = new SimEnv({ task: 'pick-place', camera });
    try {
      const all: Sample[] = frames(await env.reset(0));
      for (let i = 0; i < 20; i++) all.push(...frames(await env.step(zeroAction())));
      // One second: frames due at k/30 s for k = 0…30.
      expect(all).toHaveLength(31);
      const f0 = all[0].data as CameraData;
      expect(f0).toMatchObject({ encoding: 'rgb8', width: 96, height: 96, frame_id: 'wrist_camera' });
      expect(f0.data).toHaveLength(96 * 96 * 3);
      for (let i = 1; i < all.length; i++) {
        const dt = all[i].t_capture_ns - all[i - 1].t_capture_ns;
        expect(dt).toBeGreaterThanOrEqual(30e6);
        expect(dt).toBeLessThanOrEqual(40e6);
      }
      const still = all[all.length - 1].data as CameraData;
      expect(meanAbsDiff(f0.data, still.data)).toBeLessThan(0.5);
      // Not a blank image: a lit scene with texture (counter, objects, fingers).
      const lum = Array.from(f0.data);
      expect(Math.max(...lum) - Math.min(...lum)).toBeGreaterThan(60);
      // Move the hand sideways and down: the view changes.
      const a = zeroAction();
      a.linear[1] = 0.2;
      a.linear[2] = -0.1;
      let moved: CameraData | null = null;
      for (let i = 0; i < 20; i++) for (const s of frames(await env.step(a))) moved = s.data as CameraData;
      expect(meanAbsDiff(still.data, moved!.data)).toBeGreaterThan(5);
    } finally {
      env.close();
    }
  });
});
