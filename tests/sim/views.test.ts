// Labelled views for a vision prior (sim/views.ts), rendered by the real wrist
// camera: the labels must say what the image shows. A jar the labels call
// visible is found, jar-coloured, at the pixel its offset projects to; a held
// jar sits at the tool; the same seed renders the same views.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROBOT } from '../../sim/layout.ts';
import { VIEW_SCALE_M, VIEW_TARGETS_PER_LANDMARK, createNodeCamera, landmarkNames, renderViews, type LabelledView } from '../../sim/index.ts';
import type { CameraRig } from '../../sim/camera.ts';

const JAR_HH = 0.055;
const FOV = 75;
let camera: CameraRig;
let views: LabelledView[];

async function render(seed: number, layouts: number, perLayout: number): Promise<LabelledView[]> {
  const out: LabelledView[] = [];
  for await (const v of renderViews({ task: 'find-smell', camera, layouts, perLayout, seed })) out.push({ ...v, image: { ...v.image, data: Uint8Array.from(v.image.data as Uint8Array) } });
  return out;
}

beforeAll(async () => {
  camera = await createNodeCamera();
  views = await render(500_000, 3, 24);
}, 120_000);
afterAll(() => camera?.dispose());

const isJar = (rgb: ArrayLike<number>) => rgb[0] > rgb[1] + 40 && rgb[0] > rgb[2] + 60;

describe('labelled views', () => {
  it('names find-smell landmarks and gives three targets each', async () => {
    expect(await landmarkNames('find-smell')).toEqual(['jar-0', 'jar-1', 'jar-2', 'bin']);
    expect(views).toHaveLength(72);
    for (const v of views) {
      expect(v.targets).toHaveLength(4 * VIEW_TARGETS_PER_LANDMARK);
      for (let i = 0; i < 4; i++) {
        const seen = v.targets[i * 3 + 2];
        expect([0, 1]).toContain(seen);
        // Offsets count only where the camera sees the landmark; the flag always counts.
        expect([v.weights[i * 3], v.weights[i * 3 + 1], v.weights[i * 3 + 2]]).toEqual([seen, seen, 1]);
      }
    }
  });

  it('a jar labelled visible is at the pixel its offset projects to', () => {
    // The camera is cameraForward ahead of the tool and cameraAboveTool above it, looking straight
    // down, image up = the hand's forward, image right = the hand's right (−y).
    const t = Math.tan((FOV * Math.PI) / 360);
    const { width: W, height: H } = views[0].image;
    let checked = 0;
    let hits = 0;
    for (const v of views) {
      const data = v.image.data as Uint8Array;
      for (let j = 0; j < 3; j++) {
        const o = j * VIEW_TARGETS_PER_LANDMARK;
        if (v.targets[o + 2] !== 1) continue;
        const fx = v.targets[o] * VIEW_SCALE_M;
        const fy = v.targets[o + 1] * VIEW_SCALE_M;
        if (Math.hypot(fx, fy) < 1e-6) continue; // held
        // The jar's lid: its centre's offset, at the jar's top (the counter is at 0.9 m).
        const depth = v.tool.z + ROBOT.cameraAboveTool - (0.9 + 2 * JAR_HH);
        const up = (fx - ROBOT.cameraForward) / (depth * t);
        const right = -fy / (depth * t);
        if (Math.abs(up) > 0.85 || Math.abs(right) > 0.85) continue;
        const row = Math.round(((1 - up) / 2) * H);
        const col = Math.round(((1 + right) / 2) * W);
        const i = (row * W + col) * 3;
        const found = isJar([data[i], data[i + 1], data[i + 2]]);
        checked++;
        if (found) hits++;
      }
    }
    expect(checked).toBeGreaterThan(15);
    expect(hits / checked).toBeGreaterThan(0.9);
  });

  it('places a held jar at the tool, between the fingers, where the camera shows it', () => {
    const held = views.filter((v) => v.held);
    expect(held.length).toBeGreaterThan(10);
    for (const v of held) {
      const atTool = [0, 1, 2].filter((j) => Math.hypot(v.targets[j * 3], v.targets[j * 3 + 1]) < 1e-6);
      expect(atTool).toHaveLength(1);
      // Just above the image's bottom edge, between the fingers: the jar's colour.
      const { width: W, height: H } = v.image;
      const data = v.image.data as Uint8Array;
      const i = ((H - 6) * W + W / 2) * 3;
      expect(isJar([data[i], data[i + 1], data[i + 2]])).toBe(true);
    }
    // Empty-handed views far from every jar never show one there.
    const far = views.filter((v) => !v.held && [0, 1, 2].every((j) => Math.hypot(v.targets[j * 3], v.targets[j * 3 + 1]) * VIEW_SCALE_M > 0.25));
    expect(far.length).toBeGreaterThan(3);
    for (const v of far) {
      const { width: W, height: H } = v.image;
      const data = v.image.data as Uint8Array;
      const i = ((H - 6) * W + W / 2) * 3;
      expect(isJar([data[i], data[i + 1], data[i + 2]])).toBe(false);
    }
  });

  it('the same seed renders the same views', async () => {
    const again = await render(500_000, 1, 6);
    for (let k = 0; k < 6; k++) {
      expect(Buffer.from(again[k].image.data as Uint8Array).equals(Buffer.from(views[k].image.data as Uint8Array))).toBe(true);
      expect(Array.from(again[k].targets)).toEqual(Array.from(views[k].targets));
    }
  }, 60_000);
});
