// `senseact eval --json` end to end on real parts: demos recorded by the
// simulator, a policy trained on them, episodes run through Streams and the
// Synchronizer, the JSON validated against its schema, the HTML report written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvalResult, wilson } from '../../runtime/index.ts';
import { meaningfulLines, senseact } from '../helpers/cli.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-eval-'));
  // Without a camera the whole pipeline runs physics-only: fast enough for a test.
  const rec = senseact(['sim', 'run', '--task', 'gentle-grasp', '--expert', '--episodes', '1', '--seed', '0', '--out', path.join(dir, 'demos'), '--no-camera']);
  expect(rec.status, rec.stderr).toBe(0);
  // A config file sets the chunk and the motion history; --steps on the command line overrides its training steps.
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ chunk: 6, proprio_history: { steps: 3, every: 4 }, train: { steps: 500 } }));
  const tr = senseact(['train', '--data', path.join(dir, 'demos'), '--out', path.join(dir, 'p.safetensors'), '--config', path.join(dir, 'policy.json'), '--steps', '3', '--backend', 'cpu', '--json'], {}, 120_000);
  expect(tr.status, tr.stderr).toBe(0);
}, 180_000);

describe('senseact train --config', () => {
  it('trains with the file\'s settings, flags taking precedence, and the checkpoint carries them', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'p.json'), 'utf8'));
    expect(meta.config.chunk).toBe(6);
    expect(meta.config.proprio_history).toEqual({ steps: 3, every: 4 });
    expect(meta.config.train.steps).toBe(3);
    expect(meta.training.steps).toBe(3);
    // 8 joint positions × 3 history entries, after the 26-entry proprio vector.
    expect(meta.dims.history).toBe(24);
    expect(meta.dims.proprio).toBe(26 + 24);
  });

  it('refuses a config file with an unknown or invalid field, naming the file and the field', () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ chunk: 0 }));
    const run = senseact(['train', '--data', path.join(dir, 'demos'), '--out', path.join(dir, 'q.safetensors'), '--config', bad]);
    expect(run.status).toBe(2);
    expect(meaningfulLines(run.stderr)).toEqual([expect.stringMatching(/^senseact: --config: .*bad\.json: chunk: /)]);
    fs.writeFileSync(bad, JSON.stringify({ chunks: 4 }));
    const run2 = senseact(['train', '--data', path.join(dir, 'demos'), '--out', path.join(dir, 'q.safetensors'), '--config', bad]);
    expect(run2.status).toBe(2);
    expect(meaningfulLines(run2.stderr)).toEqual([expect.stringMatching(/^senseact: --config: .*bad\.json: .*chunks/)]);
    expect(fs.existsSync(path.join(dir, 'q.safetensors'))).toBe(false);
  });
});

describe('senseact eval', () => {
  it('--json prints one object that validates against its schema, skips training seeds, and writes a report', () => {
    const run = senseact(['eval', '--policy', path.join(dir, 'p.safetensors'), '--task', 'gentle-grasp', '--episodes', '2', '--seed', '0', '--backend', 'cpu', '--json'], {}, 120_000);
    expect(run.status, run.stderr).toBe(0);
    const result = EvalResult.parse(JSON.parse(run.stdout));
    expect(result.episodes).toBe(2);
    // Seed 0 was a training demo: evaluation starts at 1.
    expect(result.seeds).toEqual([1, 2]);
    expect(result.ci95).toEqual(wilson(result.successes, 2));
    expect(result.mean_steps).toBeGreaterThan(0);
    expect(Object.values(result.failures).reduce((a, b) => a + b, 0)).toBe(2 - result.successes);
    expect(result.latency_ms.p50).toBeGreaterThan(0);
    const report = path.join(dir, 'p.eval-gentle-grasp.html');
    expect(fs.readFileSync(report, 'utf8')).toMatch(/<h1>eval: gentle-grasp<\/h1>[\s\S]*95% Wilson interval/);
  }, 180_000);

  it('--trace writes every tick and how each episode ended, as JSON lines, and nothing under a temporary name', () => {
    const file = path.join(dir, 'trace', 'gg.jsonl');
    fs.mkdirSync(path.dirname(file));
    const run = senseact(['eval', '--policy', path.join(dir, 'p.safetensors'), '--task', 'gentle-grasp', '--episodes', '2', '--seed', '0', '--backend', 'cpu', '--json', '--trace', file], {}, 120_000);
    expect(run.status, run.stderr).toBe(0);
    const result = EvalResult.parse(JSON.parse(run.stdout));
    expect(fs.readdirSync(path.dirname(file))).toEqual(['gg.jsonl']);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const ends = lines.filter((l) => l.end === true);
    expect(ends.map((e) => e.seed)).toEqual(result.seeds);
    expect(ends.filter((e) => e.success).length).toBe(result.successes);
    for (const end of ends) {
      const ticks = lines.filter((l) => l.seed === end.seed && !l.end);
      // One line per control tick, in order, then the end line.
      expect(ticks.map((t) => t.tick)).toEqual(Array.from({ length: end.steps }, (_, i) => i + 1));
      expect(lines.indexOf(end)).toBe(lines.indexOf(ticks.at(-1)) + 1);
      // The last tick's tool is where the simulator says the hand ended.
      const ee = end.info.ee as { x: number; y: number; z: number };
      expect(ticks.at(-1).tool[0]).toBeCloseTo(ee.x, 3);
      expect(ticks.at(-1).tool[2]).toBeCloseTo(ee.z, 3);
      expect(Object.keys(ticks[0].objects)).toEqual(['cup']);
      for (const t of ticks) {
        expect(t.grip_force.every((f: number) => Number.isFinite(f))).toBe(true);
        expect(t.gripper).toBeGreaterThanOrEqual(0);
      }
      // The policy moved the hand.
      const [a, b] = [ticks[0].tool, ticks.at(-1).tool];
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeGreaterThan(0.005);
    }
    expect(result.mean_steps).toBe(ends.reduce((s, e) => s + e.steps, 0) / ends.length);
  }, 180_000);

  it('--trace into a directory that does not exist exits 2 with one line', () => {
    const run = senseact(['eval', '--policy', path.join(dir, 'p.safetensors'), '--task', 'gentle-grasp', '--episodes', '1', '--trace', path.join(dir, 'nowhere', 't.jsonl')]);
    expect(run.status).toBe(2);
    expect(meaningfulLines(run.stderr)).toEqual([expect.stringMatching(/^senseact: --trace: no such directory: .*nowhere/)]);
  });

  it('rejects an unknown modality in --mask with one line', () => {
    const run = senseact(['eval', '--policy', path.join(dir, 'p.safetensors'), '--task', 'gentle-grasp', '--episodes', '1', '--mask', 'sonar']);
    expect(run.status).toBe(2);
    expect(meaningfulLines(run.stderr)).toEqual([expect.stringMatching(/^senseact: --mask takes a comma-separated list of: camera, tactile, smell, proprio/)]);
  });

  it('Wilson intervals match published values', () => {
    const [lo, hi] = wilson(0, 20);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.161, 3);
    const [lo2, hi2] = wilson(17, 20);
    expect(lo2).toBeCloseTo(0.640, 2);
    expect(hi2).toBeCloseTo(0.948, 2);
  });
});
