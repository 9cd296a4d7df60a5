import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Dataset,
  LogWriter,
  STATS_FILE,
  actionVector,
  batches,
  decodeImage,
  episodeFrames,
  resizeRgb,
  syntheticMix,
  testCard,
  type ActionData,
  type CameraData,
  type Sample,
} from '../../sensors/index.ts';
import { meaningfulLines, senseact } from '../helpers/cli.ts';

const T0 = 1_700_000_000_000_000_000;
const frames = [0, 1, 2, 3].map((p) => testCard(64, 48, p));
let dir: string;
const written = new Map<string, Sample[]>();

async function record(name: string, seed: number, success: boolean, drop?: (s: Sample) => boolean): Promise<void> {
  const samples = [...syntheticMix({ t0_ns: T0 + seed * 1e10, frames, action_hz: 50 }, 3)].filter((s) => !drop?.(s));
  const w = await LogWriter.open(path.join(dir, name), {
    meta: { task: 'pick-place', robot: 'sim', operator: 'test', seed, success: null, notes: '' },
  });
  for (const s of samples) expect(w.write(s).ok).toBe(true);
  await w.finalize({ success });
  written.set(name, samples);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-dataset-'));
  await record('ep-000.mcap', 0, true);
  // Episode 1 loses half a second of camera frames (1.0 s .. 1.5 s).
  await record('ep-001.mcap', 1, false, (s) => s.stream === 'camera/wrist' && s.t_capture_ns - (T0 + 1e10) >= 1e9 && s.t_capture_ns - (T0 + 1e10) < 1.5e9);
  // A crashed recording: cut inside its data.
  const bytes = fs.readFileSync(path.join(dir, 'ep-000.mcap'));
  fs.writeFileSync(path.join(dir, 'ep-002.mcap.partial'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a log');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Dataset', () => {
  it('lists episodes with per-stream counts, rates, gaps and durations', async () => {
    const ds = await Dataset.open(dir);
    const info = await ds.info();
    expect(info.episodes.map((e) => e.file)).toEqual(['ep-000.mcap', 'ep-001.mcap']);
    const [a, b] = info.episodes;
    expect(a).toMatchObject({ task: 'pick-place', seed: 0, success: true, repaired: false, meta_error: null });
    expect(b).toMatchObject({ seed: 1, success: false });
    expect(a.duration_s).toBeCloseTo(2.99, 2);
    const rates = Object.fromEntries(a.streams.map((s) => [s.name, s]));
    expect(rates['camera/wrist']).toMatchObject({ count: 90, gaps: 0 });
    expect(rates['camera/wrist'].rate_hz).toBeCloseTo(30, 3);
    expect(rates['camera/wrist'].max_gap_s).toBeCloseTo(1 / 30, 6);
    expect(rates['tactile/left'].count).toBe(300);
    expect(rates['tactile/left'].rate_hz).toBeCloseTo(100, 3);
    expect(rates.smell).toMatchObject({ count: 6 });
    expect(rates.smell.rate_hz).toBeCloseTo(2, 6);
    expect(rates.action.count).toBe(150);
    const cam = b.streams.find((s) => s.name === 'camera/wrist')!;
    expect(cam.count).toBe(75);
    expect(cam.gaps).toBe(1);
    expect(cam.max_gap_s).toBeCloseTo(16 / 30, 6);
    expect(info.unfinalized).toHaveLength(1);
    expect(info.unfinalized[0].file).toBe('ep-002.mcap.partial');
    expect(info.unfinalized[0].recoverable_messages).toBeGreaterThan(0);
    expect(info.unfinalized[0].hint).toMatch(/senseact dataset repair/);
  });

  it('replays frames at the control rate through the synchronizer, never from the future', async () => {
    const ds = await Dataset.open(dir);
    const ep = await ds.episode(1);
    const list = [...episodeFrames(ep, { rate_hz: 10 })];
    expect(list.length).toBeGreaterThanOrEqual(29);
    let maskedCamera = 0;
    for (const f of list) {
      expect(Object.keys(f.slots).sort()).toEqual(['camera/wrist', 'proprio', 'smell', 'tactile/left', 'tactile/right']);
      for (const slot of Object.values(f.slots)) {
        if (slot.sample) expect(slot.sample.t_capture_ns <= f.t_ns && slot.sample.t_receive_ns <= f.t_ns).toBe(true);
      }
      if (f.slots['camera/wrist'].masked) maskedCamera++;
    }
    // The half-second camera hole is masked as stale for the ticks inside it.
    expect(maskedCamera).toBeGreaterThanOrEqual(3);
    expect(maskedCamera).toBeLessThanOrEqual(6);
    expect(list[0].masked).toEqual([]);
  });

  it('computes normalization statistics, saves them atomically and reads them back validated', async () => {
    const ds = await Dataset.open(dir);
    const stats = await ds.computeStats({ cameraFrames: 4 });
    const actions = [...written.values()].flat().filter((s) => s.stream === 'action');
    const mean = [0, 1, 2, 3, 4, 5, 6].map((i) => actions.reduce((acc, s) => acc + actionVector(s.data as ActionData)[i], 0) / actions.length);
    stats.action!.mean.forEach((m, i) => expect(m).toBeCloseTo(mean[i], 5));
    expect(stats.action!.count).toBe(300);
    expect(stats.proprio!.names).toHaveLength(7 * 3 + 2);
    expect(Object.keys(stats.tactile).sort()).toEqual(['tactile/left', 'tactile/right']);
    expect(stats.smell.smell.names).toEqual(['mox0', 'mox1', 'mox2', 'mox3']);
    expect(stats.camera['camera/wrist'].frames).toBe(8);
    const file = ds.saveStats(stats);
    expect(path.basename(file)).toBe(STATS_FILE);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(Dataset.loadStats(dir)).toEqual(stats);
    const bad = JSON.parse(fs.readFileSync(file, 'utf8'));
    bad.action.mean = 'x';
    fs.writeFileSync(file, JSON.stringify(bad));
    expect(() => Dataset.loadStats(dir)).toThrow(/norm_stats\.json: action\.mean: /);
    fs.rmSync(file);
  });

  it('builds training examples: image, pads, smell window, proprio, and the action chunk targets', async () => {
    const ds = await Dataset.open(dir);
    const H = 5;
    const { layout, examples } = await ds.examples({ rate_hz: 10, horizon: H, image: { width: 32, height: 24 }, smell_history: 4 });
    expect(layout).toMatchObject({
      camera: 'camera/wrist',
      image: { width: 32, height: 24 },
      tactile: { streams: ['tactile/left', 'tactile/right'], taxels: [48, 48] },
      smell: { stream: 'smell', channels: ['mox0', 'mox1', 'mox2', 'mox3'], history: 4 },
      action: { stream: 'action', horizon: H },
    });
    expect(layout.proprio.names).toHaveLength(23);
    expect(examples.length).toBeGreaterThanOrEqual(58);
    const ep0 = written.get('ep-000.mcap')!;
    const actions = ep0.filter((s) => s.stream === 'action');
    const cams = ep0.filter((s) => s.stream === 'camera/wrist');
    for (const ex of examples.filter((e) => e.episode === 0)) {
      for (let k = 0; k <= H; k++) {
        const tk = ex.t_ns + k * 1e8;
        const inside = tk <= actions[actions.length - 1].t_capture_ns + 1e7;
        expect(ex.action_valid[k]).toBe(inside ? 1 : 0);
        if (!inside) continue;
        const nearest = actions.reduce((a, s) => (Math.abs(s.t_capture_ns - tk) < Math.abs(a.t_capture_ns - tk) ? s : a));
        // (+ 0 folds -0 into 0: the log stores JSON numbers)
        expect(Array.from(ex.actions.subarray(k * 7, k * 7 + 7), (x) => x + 0)).toEqual(Array.from(actionVector(nearest.data as ActionData), (x) => x + 0));
      }
      // The image is the newest camera frame known at t, decoded and resized.
      const cam = cams.filter((s) => s.t_receive_ns <= ex.t_ns).at(-1)!;
      const want = resizeRgb(decodeImage(cam.data as CameraData), 32, 24);
      expect(Buffer.from(ex.image).equals(Buffer.from(want))).toBe(true);
      expect(Array.from(ex.mask)).toEqual([0, 0, 0, 0]);
      expect(Array.from(ex.smell_valid).filter((v) => v === 1).length).toBeGreaterThanOrEqual(1);
    }
    // Near the end the chunk runs past the last action: padded and marked invalid.
    expect(examples.filter((e) => e.episode === 0).at(-1)!.action_valid[H]).toBe(0);

    const all = [...batches(layout, examples, { batch_size: 16, seed: 3 })];
    expect(all[0].image.shape).toEqual([16, 24, 32, 3]);
    expect(all[0].tactile.shape).toEqual([16, 96]);
    expect(all[0].smell.shape).toEqual([16, 4, 4]);
    expect(all[0].proprio.shape).toEqual([16, 23]);
    expect(all[0].actions.shape).toEqual([16, H + 1, 7]);
    expect(all[0].mask.shape).toEqual([16, 4]);
    expect(all.reduce((n, b) => n + b.size, 0)).toBe(examples.length);
    const seen = all.flatMap((b) => Array.from(b.t_ns, (t, i) => `${b.episode[i]}:${t}`));
    expect(new Set(seen).size).toBe(examples.length);
    // Same seed, same order; another seed, another order.
    const again = [...batches(layout, examples, { batch_size: 16, seed: 3 })];
    expect(Array.from(again[0].t_ns)).toEqual(Array.from(all[0].t_ns));
    const other = [...batches(layout, examples, { batch_size: 16, seed: 4 })];
    expect(Array.from(other[0].t_ns)).not.toEqual(Array.from(all[0].t_ns));
  });
});

describe('senseact dataset', () => {
  it('info --json prints the contract object on stdout', () => {
    const run = senseact(['dataset', 'info', dir, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info.episodes).toHaveLength(2);
    for (const ep of info.episodes) {
      expect(Object.keys(ep)).toEqual(expect.arrayContaining(['file', 'task', 'seed', 'success', 'duration_s', 'streams']));
      for (const s of ep.streams) expect(Object.keys(s)).toEqual(expect.arrayContaining(['name', 'count', 'rate_hz', 'max_gap_s']));
    }
    expect(info.episodes[1].streams.find((s: { name: string }) => s.name === 'camera/wrist').count).toBe(75);
  });

  it('info without --json prints a human summary on stderr only', () => {
    const run = senseact(['dataset', 'info', dir]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/2 episodes/);
    expect(run.stderr).toMatch(/camera\/wrist\s+90 msgs\s+30\.0 Hz\s+max gap 0\.033 s/);
    expect(run.stderr).toMatch(/camera\/wrist\s+75 msgs\s+24\.9 Hz\s+max gap 0\.533 s\s+1 gap$/m);
    expect(run.stderr).toMatch(/ep-002\.mcap\.partial: \d+ recoverable messages/);
  });

  it('bad input exits non-zero with one line', () => {
    const missing = senseact(['dataset', 'info', path.join(dir, 'nope')]);
    expect(missing.status).toBe(1);
    expect(meaningfulLines(missing.stderr)).toEqual([`senseact: not a directory: ${path.join(dir, 'nope')}`]);
    const notLog = senseact(['dataset', 'repair', path.join(dir, 'notes.txt')]);
    expect(notLog.status).toBe(1);
    expect(meaningfulLines(notLog.stderr)).toHaveLength(1);
    expect(notLog.stderr).toMatch(/^senseact: cannot repair .*notes\.txt: .*not an MCAP log/);
  });
});
