// The wrist camera renders the real scene with three's WebGPURenderer on Dawn.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as THREE from 'three/webgpu';
import { SimEnv, recordEpisodes, zeroAction, type CameraData, type Sample } from '../../sim/index.ts';
import { Dataset } from '../../sensors/index.ts';
import { createNodeCamera } from '../../sim/camera-node.ts';
import { sceneCameraPose } from '../../sim/camera.ts';
import { SCENE_CAMERA } from '../../sim/layout.ts';
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

describe.skipIf(!gpu)('wrist camera colour', () => {
  it('reads back sRGB: an unlit sRGB grey of 128 comes back as 128, not its linear value (~55)', async () => {
    const camera = await createNodeCamera({ width: 16, height: 16 });
    try {
      const scene = new THREE.Scene();
      scene.background = new THREE.Color(0x808080);
      const red = new THREE.Mesh(new THREE.PlaneGeometry(2, 2), new THREE.MeshBasicMaterial({ color: 0xc04020 }));
      red.position.set(0, -1, -1); // lower half of the view
      scene.add(red);
      const cam = new THREE.PerspectiveCamera(90, 1, 0.1, 10);
      const frame = await camera.renderScene(scene, cam);
      const px = (x: number, y: number) => Array.from(frame.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
      // Top row: background; bottom row: the plane (rows come back top first).
      for (const v of px(8, 1)) expect(Math.abs(v - 0x80)).toBeLessThanOrEqual(2);
      const [r, g, b] = px(8, 14);
      expect(Math.abs(r - 0xc0)).toBeLessThanOrEqual(2);
      expect(Math.abs(g - 0x40)).toBeLessThanOrEqual(2);
      expect(Math.abs(b - 0x20)).toBeLessThanOrEqual(2);
    } finally {
      camera.dispose();
    }
  });
});

describe.skipIf(!gpu)('wrist camera intrinsics', () => {
  it('travel with the recorded frames: the dataset layout reads the 75° camera’s focal length (view shifts scale by it)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-focal-'));
    const camera = await createNodeCamera({ width: 32, height: 32 });
    try {
      await recordEpisodes({ task: 'gentle-grasp', driver: 'full', episodes: 1, firstSeed: 0, outDir: dir, camera, fsync: false });
      const layout = await (await Dataset.open(dir)).layout({ rate_hz: 20, horizon: 0 });
      expect(layout.camera).toBe('camera/wrist');
      expect(layout.focal).toBeCloseTo(0.5 / Math.tan((75 * Math.PI) / 360), 6);
    } finally {
      camera.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf(!gpu)('scene camera', () => {
  it('renders the counter from above with the wrist camera’s frames: the bin, each jar and the moving hand where they stand', async () => {
    const camera = await createNodeCamera({ scene: true });
    const env = new SimEnv({ task: 'find-smell', camera });
    const ofStream = (ss: Sample[], name: string) => ss.filter((s) => s.stream === name);
    try {
      const first = await env.reset(1000);
      const wrist = ofStream(first, 'camera/wrist');
      const scene = ofStream(first, 'camera/scene');
      for (let i = 0; i < 6; i++) {
        const ss = await env.step(zeroAction());
        wrist.push(...ofStream(ss, 'camera/wrist'));
        scene.push(...ofStream(ss, 'camera/scene'));
      }
      // Same instants as the wrist camera (one render of one world state).
      expect(scene.map((s) => s.t_capture_ns)).toEqual(wrist.map((s) => s.t_capture_ns));
      const f = scene[0].data as CameraData;
      expect(f).toMatchObject({ encoding: 'rgb8', width: 96, height: 96, frame_id: 'scene_camera' });
      expect(f.intrinsics!.fy / 96).toBeCloseTo(0.5 / Math.tan((SCENE_CAMERA.fovDeg * Math.PI) / 360), 6);
      const view = new THREE.PerspectiveCamera(SCENE_CAMERA.fovDeg, 1, 0.05, 6);
      sceneCameraPose(view);
      const rgbAt = (frame: CameraData, p: { x: number; y: number; z: number }) => {
        const n = new THREE.Vector3(p.x, p.y, p.z).project(view);
        const u = Math.floor(((n.x + 1) / 2) * 96);
        const v = Math.floor(((1 - n.y) / 2) * 96);
        expect(u >= 0 && u < 96 && v >= 0 && v < 96, `(${p.x}, ${p.y}) projects into the image`).toBe(true);
        return Array.from(frame.data.subarray((v * 96 + u) * 3, (v * 96 + u) * 3 + 3));
      };
      const thing = (name: string) => env.sim.things.find((t) => t.name === name)!.body.translation();
      // The bin's floor is green-grey (0x5a6b48), the jars' lids brown (0xa0522d).
      const [br, bg, bb] = rgbAt(f, thing('bin-floor'));
      expect(bg).toBeGreaterThan(br);
      expect(bg).toBeGreaterThan(bb);
      for (const j of [0, 1, 2]) {
        const p = thing(`jar-${j}`);
        const [r, g, b] = rgbAt(f, { x: p.x, y: p.y, z: p.z + 0.055 });
        expect(r, `jar-${j}`).toBeGreaterThan(g + 30);
        expect(g, `jar-${j}`).toBeGreaterThan(b);
      }
      // The fixed camera does not move with the hand; the hand moves in its view.
      const still = scene.at(-1)!.data as CameraData;
      expect(meanAbsDiff(f.data, still.data)).toBeLessThan(0.5);
      const a = zeroAction();
      a.linear[1] = 0.2;
      let moved: CameraData | null = null;
      for (let i = 0; i < 20; i++) for (const s of ofStream(await env.step(a), 'camera/scene')) moved = s.data as CameraData;
      expect(meanAbsDiff(still.data, moved!.data)).toBeGreaterThan(0.5);
    } finally {
      env.close();
    }
  }, 60_000);

  it('is left out unless asked for (wrist camera only)', async () => {
    const env = new SimEnv({ task: 'pick-place', camera: await createNodeCamera({ width: 16, height: 16 }) });
    try {
      const streams = new Set((await env.reset(0)).map((s) => s.stream));
      expect(streams.has('camera/wrist')).toBe(true);
      expect(streams.has('camera/scene')).toBe(false);
    } finally {
      env.close();
    }
  });
});
