// Demonstrations generated from recorded ones (sim/generate.ts): recorded
// pick-place episodes are cut into their stages at the mug and at the plate,
// replayed in new layouts, and only the successes are written, as real MCAP
// logs read back through sensors/. find-smell's sweeps are rebuilt from the
// recorded hovers over the jars, in the order the recordings searched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { episodeInfo, listLogs } from '../../sensors/index.ts';
import { GENERATED_PREFIX, HOVER_NEAR, STAGE_NEAR, SourceError, StageReplay, episodeFileName, generateEpisodes, loadSource, recordEpisodes, runEpisode, sceneOf, type SourceDemo, type TaskName } from '../../sim/index.ts';
import { withEnv } from './helpers.ts';

let dir: string;
let sources: SourceDemo[];

/** Where the recorded scene of `seed` had its landmarks. */
const landmarksOf = (seed: number) => withEnv('pick-place', async (env) => (await env.reset(seed), env.task.landmarks!()));
/** Reads a log as a generation source, its recorded scene laid out again from its seed. */
const sourceOf = (task: TaskName, file: string) => withEnv(task, (env) => loadSource(file, (_, seed) => sceneOf(env, seed)));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-generate-'));
  await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 2, firstSeed: 0, outDir: path.join(dir, 'demos'), fsync: false });
  const { finalized } = await listLogs(path.join(dir, 'demos'));
  sources = await Promise.all(finalized.map((f) => sourceOf('pick-place', f)));
}, 60_000);

describe('sim generate', () => {
  it('cuts a recorded pick-place into the stage at the mug (the grasp) and the stage at the plate (the release, to the end)', async () => {
    for (const s of sources) {
      const [mug, plate] = s.stages;
      expect([mug.object, plate.object]).toEqual(['mug', 'plate']);
      expect(mug.from).toBeLessThan(mug.to);
      expect(mug.to).toBeLessThanOrEqual(plate.from);
      expect(plate.to).toBe(s.ticks.length);
      // The grasp (the gripper closing) falls in the mug's stage, the release in the plate's.
      const closing = s.ticks.findIndex((t, i) => i > 0 && t.gripper > s.ticks[i - 1].gripper);
      expect(closing).toBeGreaterThan(mug.from);
      expect(closing).toBeLessThan(mug.to);
      const peak = s.ticks.reduce((m, t, i) => (t.gripper > s.ticks[m].gripper ? i : m), 0);
      const opening = s.ticks.findIndex((t, i) => i > peak && t.gripper < s.ticks[i - 1].gripper);
      expect(opening).toBeGreaterThanOrEqual(plate.from);
      // Every tick of a stage is within reach of its object; the carry between them is not.
      for (const st of s.stages) {
        for (let t = st.from; t < st.to && st.object === 'mug'; t++) expect(Math.hypot(s.ticks[t].x - st.at.x, s.ticks[t].y - st.at.y)).toBeLessThanOrEqual(STAGE_NEAR);
      }
      const mid = Math.floor((mug.to + plate.from) / 2);
      expect(Math.hypot(s.ticks[mid].x - mug.at.x, s.ticks[mid].y - mug.at.y)).toBeGreaterThan(STAGE_NEAR);
    }
  });

  it('a demonstration replayed in its own scene succeeds again', async () => {
    await withEnv('pick-place', async (env) => {
      for (const s of sources) {
        const r = await runEpisode(env, s.seed, () => new StageReplay(s));
        expect(r.success, `seed ${s.seed}: ${r.failure}`).toBe(true);
      }
    });
  });

  it('writes only successful episodes, in new layouts (the plate on either side of the mug), as logs that name their source', async () => {
    const out = path.join(dir, 'demos');
    const result = await generateEpisodes({ sourceDir: out, episodes: 6, firstSeed: 100, outDir: out, fsync: false });
    expect(result.task).toBe('pick-place');
    expect(result.sources).toHaveLength(2);
    expect(result.kept).toHaveLength(6);
    expect(result.kept.every((r) => r.success)).toBe(true);
    expect(result.attempts - result.kept.length).toBe(Object.values(result.failures).reduce((a, b) => a + b, 0));
    const { finalized } = await listLogs(out);
    const generated = [];
    for (const f of finalized) {
      const info = await episodeInfo(f);
      if (info.seed! < 100) {
        expect(info.operator).toBe('scripted-expert/full');
        continue;
      }
      expect(info.success).toBe(true);
      expect(info.operator).toMatch(new RegExp(`^${GENERATED_PREFIX}pick-place-seed00000[01]\\.mcap$`));
      generated.push(info.seed!);
    }
    expect(generated.sort((a, b) => a - b)).toEqual(result.kept.map((r) => r.seed));
    // Both recorded demonstrations put the plate to the mug's left (+y); generation covers the other side too.
    for (const s of sources) expect(s.stages[1].at.y).toBeGreaterThan(s.stages[0].at.y);
    const sides = await Promise.all(
      result.kept.map(async (r) => {
        const [mug, plate] = await landmarksOf(r.seed);
        return Math.sign(plate.y - mug.y);
      }),
    );
    expect(sides).toContain(-1);
    expect(sides).toContain(1);
  }, 120_000);

  it('generates again from the recorded demonstrations only, and never overwrites a log', async () => {
    const out = path.join(dir, 'demos');
    const existing = path.join(out, 'pick-place-seed000100.mcap');
    const before = fs.readFileSync(existing);
    await expect(generateEpisodes({ sourceDir: out, episodes: 2, firstSeed: 99, outDir: out, fsync: false })).rejects.toThrow(/pick-place-seed000100\.mcap exists/);
    expect(fs.readFileSync(existing).equals(before)).toBe(true);
    const again = await generateEpisodes({ sourceDir: out, episodes: 1, firstSeed: 200, outDir: path.join(dir, 'more'), fsync: false });
    expect(again.sources.map((s) => s.seed)).toEqual([0, 1]);
  }, 60_000);

  it('refuses folders it cannot generate from, naming why', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    await expect(generateEpisodes({ sourceDir: empty, episodes: 1, firstSeed: 100, outDir: empty })).rejects.toThrow(SourceError);
    await expect(generateEpisodes({ sourceDir: empty, episodes: 1, firstSeed: 100, outDir: empty })).rejects.toThrow(/no recorded demonstrations/);
    const mixed = path.join(dir, 'mixed');
    await recordEpisodes({ task: 'find-smell', driver: 'full', episodes: 1, firstSeed: 0, outDir: mixed, fsync: false });
    await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 1, firstSeed: 0, outDir: mixed, fsync: false });
    await expect(generateEpisodes({ sourceDir: mixed, episodes: 1, firstSeed: 100, outDir: mixed })).rejects.toThrow(/demonstrations of 2 tasks/);
    const failed = path.join(dir, 'failed');
    await recordEpisodes({ task: 'pick-place', driver: 'random', episodes: 1, firstSeed: 0, outDir: failed, fsync: false });
    await expect(generateEpisodes({ sourceDir: failed, episodes: 1, firstSeed: 100, outDir: failed })).rejects.toThrow(/not a successful episode/);
    expect((await listLogs(failed)).finalized).toHaveLength(1);
  }, 60_000);

  it('replays an open-door recording only where the hinge is on the same side', async () => {
    // Seed 0's hinge is on the right, seed 1's on the left.
    const door = path.join(dir, 'door');
    await recordEpisodes({ task: 'open-door', driver: 'full', episodes: 1, firstSeed: 0, outDir: door, fsync: false });
    const result = await generateEpisodes({ sourceDir: door, episodes: 3, firstSeed: 100, outDir: door, fsync: false });
    expect(result.sources.map((s) => s.variant)).toEqual(['hinge_side right']);
    const sides = await withEnv('open-door', async (env) => {
      const out: string[] = [];
      for (let seed = 100; seed < 100 + result.attempts; seed++) out.push((await env.reset(seed), String(env.task.info(env).hinge_side)));
      return out;
    });
    expect(result.failures.no_source).toBe(sides.filter((s) => s === 'left').length);
    expect(result.failures.no_source).toBeGreaterThan(0);
    expect(result.kept.map((r) => sides[r.seed - 100])).toEqual(['right', 'right', 'right']);
  }, 60_000);

  it('find-smell: rebuilds the sweep in each new scene from the recorded hovers, in the recordings\' order and longer than any of them, and takes the odorant jar', async () => {
    // The odorant jar is the second sniffed in seed 1 (jar-1, then jar-0) and the first in seed 2 (jar-1).
    const smell = path.join(dir, 'smell');
    await recordEpisodes({ task: 'find-smell', driver: 'full', episodes: 2, firstSeed: 1, outDir: smell, fsync: false });
    const result = await generateEpisodes({ sourceDir: smell, episodes: 6, firstSeed: 100, outDir: smell, fsync: false });
    expect(result.sources.map((s) => s.hovers.length)).toEqual([1, 0]);
    for (const s of result.sources) {
      // A hover is the hand held over its jar; the odorant jar's stage starts at its hover too.
      for (const p of s.hovers) for (let t = p.from; t < p.to; t += 5) expect(Math.hypot(s.ticks[t].x - p.at.x, s.ticks[t].y - p.at.y)).toBeLessThanOrEqual(STAGE_NEAR);
      for (const p of [...s.hovers, s.stages[0]]) expect(Math.hypot(s.ticks[p.from].x - p.at.x, s.ticks[p.from].y - p.at.y)).toBeLessThanOrEqual(HOVER_NEAR);
      expect(s.stages.map((st) => st.object)).toEqual([`jar-${s.seed === 1 ? 0 : 1}`, 'bin']);
    }
    expect(result.kept).toHaveLength(6);
    // Read back as sources, the generated logs hover over the jars before the odorant one in the
    // recordings' order, then jar-2, which no recording sniffed.
    const order = ['jar-1', 'jar-0', 'jar-2'];
    const swept: number[] = [];
    for (const r of result.kept) {
      expect(r.info.lifted_jar).toBe(r.info.target_jar);
      const g = await sourceOf('find-smell', path.join(smell, episodeFileName('find-smell', r.seed)));
      const odorant = `jar-${r.info.target_jar}`;
      expect(g.stages[0].object).toBe(odorant);
      expect(g.hovers.map((p) => p.object)).toEqual(order.slice(0, order.indexOf(odorant)));
      swept.push(g.hovers.length);
    }
    expect(Math.max(...swept), `hovers per generated sweep: ${swept}`).toBe(2);
  }, 120_000);
});
