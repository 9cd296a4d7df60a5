// Recording past success (runEpisode's `after`, `sim run --after-success`): the
// expert goes on after the task is done, as an operator stops a recording once
// the hand has let go and moved off, and the log holds those ticks too, read
// back from real MCAP bytes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { episodeInfo, listLogs, loadEpisode, LogReader, type Sample } from '../../sensors/index.ts';
import { generateEpisodes, recordEpisodes, runEpisode } from '../../sim/index.ts';
import { withEnv } from './helpers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-after-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const grippers = (actions: readonly Sample[]) => actions.map((s) => (s.data as { gripper: number }).gripper);

describe('recording past success', () => {
  it('goes on for `after` ticks once pick-place succeeds: the hand opens fully and lifts off, the mug stays placed', async () => {
    const { plain, after, still } = await withEnv('pick-place', async (env) => {
      const plain = await runEpisode(env, 0, 'full');
      const after = await runEpisode(env, 0, 'full', undefined, 20);
      return { plain, after, still: env.task.success(env) };
    });
    expect(plain.success).toBe(true);
    expect(after.success).toBe(true);
    // The outcome is decided at the same tick; the 20 ticks come on top.
    expect(after.ticks).toBe(plain.ticks);
    expect([plain.after, after.after]).toEqual([0, 20]);
    expect(still).toBe(true);

    const a = path.join(dir, 'plain');
    const b = path.join(dir, 'after');
    await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 1, firstSeed: 0, outDir: a, fsync: false });
    await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 1, firstSeed: 0, outDir: b, fsync: false, after: 20 });
    const [ea, eb] = await Promise.all([a, b].map(async (d) => loadEpisode((await listLogs(d)).finalized[0])));
    const ga = grippers(ea.series.get('action')!);
    const gb = grippers(eb.series.get('action')!);
    expect(gb.length).toBe(ga.length + 20);
    // The same episode up to success, then more of it.
    expect(gb.slice(0, ga.length)).toEqual(ga);
    // Success comes as the pads lose the mug, mid-release; the tail finishes the release.
    expect(ga.at(-1)!).toBeGreaterThan(0);
    expect(gb.at(-1)!).toBe(0);
    const z = (e: typeof ea) => e.series.get('proprio')!.map((s) => (s.data as { ee_pose: { z: number } }).ee_pose.z);
    expect(z(eb).at(-1)! - z(ea).at(-1)!).toBeGreaterThan(0.03);
  }, 60_000);

  it('generation goes on past success as long as its source was recorded to (the log says how long)', async () => {
    const src = path.join(dir, 'after'); // recorded by the test above, 20 ticks past success
    const result = await generateEpisodes({ sourceDir: src, episodes: 1, firstSeed: 100, outDir: path.join(dir, 'generated'), fsync: false });
    expect(result.kept).toHaveLength(1);
    expect(result.kept[0].after).toBe(20);
    const [file] = (await listLogs(path.join(dir, 'generated'))).finalized;
    const reader = await LogReader.open(file);
    const ended = reader.episode.meta!.after_success_ticks;
    await reader.close();
    expect(ended).toBe(20);
    // One action per tick: the ticks until success, and the 20 after.
    const actions = (await episodeInfo(file)).streams.find((s) => s.name === 'action')!;
    expect(actions.count).toBe(result.kept[0].ticks + 20);
  }, 60_000);

  it('records nothing past a failure', async () => {
    const result = await withEnv('pick-place', (env) => runEpisode(env, 0, 'random', undefined, 20));
    expect(result.success).toBe(false);
    expect(result.after).toBe(0);
  }, 60_000);
});
