// Several policies run as one (`--policy a.safetensors,b.safetensors`): the
// element-wise median of their chunks' motion and the mean of their gripper
// column, tracked like one policy's; members
// that read other inputs or predict other actions are refused by name; and
// eval names the member it cannot find.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, loadController, PolicyRunner, trainPolicy } from '../../policy/index.ts';
import { combineChunks, EnsembleRunner, medianChunk } from '../../policy/ensemble.ts';
import { ActionBlender } from '../../policy/controller.ts';
import { Dataset, episodeFrames, frameToExample, observationStreams } from '../../sensors/index.ts';
import { makeTinyDataset, optionalGpu } from './fixtures.ts';
import { memberEnv } from '../../cli/trainMembers.ts';
import { senseact } from '../helpers/cli.ts';

const gpu = await optionalGpu('ensemble training on WebGPU');

describe('medianChunk', () => {
  it('takes the middle member per element, and the mean of the middle two for an even count', () => {
    const a = Float32Array.of(0, 10, -1);
    const b = Float32Array.of(1, -5, -2);
    const c = Float32Array.of(100, 0, -3);
    expect([...medianChunk([a, b, c])]).toEqual([1, 0, -2]);
    expect([...medianChunk([a, b])]).toEqual([0.5, 2.5, -1.5]);
    // One member far off does not move a median of three.
    expect(medianChunk([a, b, Float32Array.of(1e6, 1e6, 1e6)])[0]).toBe(1);
  });
});

describe('combineChunks', () => {
  it('takes the median of each row\'s motion and the mean of its gripper column, so a minority that lets go opens the gripper a little', () => {
    // Six members, chunks of two rows [dx, dy, dz, 0, 0, dyaw, gripper]: two of them open (−0.6 over the chunk), four hold.
    const row = (dx: number, g: number) => [dx, 0, 0, 0, 0, 0, g];
    const members = [0.1, 0.2, 0.3, 0.4, 0.5, 10].map((dx, i) => Float32Array.from([...row(dx, i < 2 ? -0.6 : 0), ...row(-dx, i < 2 ? -0.6 : 0)]));
    const out = combineChunks(members);
    // Motion: the median (the mean of the middle two, 0.3 and 0.4); the outlier at 10 moves nothing.
    expect(out[0]).toBeCloseTo(0.35, 6);
    expect(out[7]).toBeCloseTo(-0.35, 6);
    // Gripper: a third of the members opening is a third of their rate, in every row; a median would hold (0).
    expect(out[6]).toBeCloseTo(-0.2, 6);
    expect(out[13]).toBeCloseTo(-0.2, 6);
    expect(medianChunk(members)[6]).toBe(0);
  });
});

describe('an ensemble of trained policies', () => {
  let dir: string;
  let runs: string;
  const WAYPOINT = { width: 32, heads: 2, ffn: 64, image: { width: 16, height: 16 }, action: { kind: 'waypoint', gripper: 'delta' }, train: { steps: 5, val_fraction: 0 } };
  const member = (name: string) => path.join(runs, `${name}.safetensors`);
  beforeAll(async () => {
    dir = await makeTinyDataset(1, 3);
    runs = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-ens-'));
    for (const [name, seed] of [['a', 0], ['b', 1], ['c', 2]] as const) await trainPolicy({ data: dir, out: member(name), backend: 'cpu', resume: false, config: { ...WAYPOINT, train: { ...WAYPOINT.train, seed } } });
    await trainPolicy({ data: dir, out: member('short'), backend: 'cpu', resume: false, config: { ...WAYPOINT, chunk: 5 } });
  }, 180_000);
  afterAll(() => {
    fs.rmSync(runs, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tracks its members\' chunks combined (median motion, mean gripper), tick by tick, as one policy tracks its own', async () => {
    const files = ['a', 'b', 'c'].map(member);
    const ensemble = await loadController(files.join(','), { backend: 'cpu' });
    const members = await Promise.all(files.map((f) => PolicyRunner.load(f, { backend: 'cpu' })));
    try {
      expect(ensemble).toBeInstanceOf(EnsembleRunner);
      const { meta } = loadCheckpoint(files[0]);
      const blender = ActionBlender.for(meta);
      const frames = [...episodeFrames(await (await Dataset.open(dir)).episode(0), { rate_hz: meta.config.rate_hz, streams: observationStreams(meta.layout) })].slice(5, 25);
      ensemble.reset();
      for (const m of members) m.reset();
      let differs = 0;
      for (const frame of frames) {
        const chunks = await Promise.all(members.map((m) => m.predict(frame)));
        if (chunks.some((c) => c.some((v, i) => Math.abs(v - chunks[0][i]) > 1e-4))) differs++;
        const expected = blender.step(combineChunks(chunks), frameToExample(frame, meta.layout));
        const got = await ensemble.act(frame);
        for (let j = 0; j < 3; j++) expect(got.linear[j]).toBeCloseTo(expected.linear[j], 5);
        expect(got.angular[2]).toBeCloseTo(expected.angular[2], 5);
        expect(got.gripper).toBeCloseTo(expected.gripper, 5);
      }
      // The members are different networks: the test would not see a median that took one member's chunk.
      expect(differs).toBe(frames.length);
      expect(ensemble.trainedSeeds).toEqual(members[0].trainedSeeds);
    } finally {
      ensemble.dispose();
      for (const m of members) m.dispose();
    }
  }, 120_000);

  it('refuses a member that predicts another chunk length, naming it', async () => {
    await expect(loadController([member('a'), member('short')].join(','), { backend: 'cpu' })).rejects.toThrow(/short\.safetensors: its chunk length differs from .*a\.safetensors/);
  });

  it('train --members K trains K checkpoints from seeds S…S+K−1 and prints the --policy that runs them', () => {
    const config = path.join(runs, 'tiny.json');
    fs.writeFileSync(config, JSON.stringify({ ...WAYPOINT, train: { steps: 3, val_fraction: 0 } }));
    const out = path.join(runs, 'ens.safetensors');
    const run = senseact(['train', '--data', dir, '--out', out, '--config', config, '--backend', 'cpu', '--seed', '7', '--members', '2', '--jobs', '1', '--json'], {}, 120_000);
    expect(run.status, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout);
    const members = [path.join(runs, 'ens-m0.safetensors'), path.join(runs, 'ens-m1.safetensors')];
    expect(printed.policy).toBe(members.join(','));
    expect(members.map((m) => loadCheckpoint(m).meta.config.train.seed)).toEqual([7, 8]);
    expect(fs.existsSync(out)).toBe(false);
    const nearest = senseact(['train', '--data', dir, '--out', out, '--kind', 'nearest', '--members', '2'], {}, 60_000);
    expect(nearest.status).toBe(2);
    expect(nearest.stderr).toMatch(/--members: an ensemble is of trained networks/);

    // --jobs 2: each member in its own process, side by side, and the same bytes as one after another.
    const side = path.join(runs, 'side.safetensors');
    const parallel = senseact(['train', '--data', dir, '--out', side, '--config', config, '--backend', 'cpu', '--seed', '7', '--members', '3', '--jobs', '2', '--json'], {}, 120_000);
    expect(parallel.status, parallel.stderr).toBe(0);
    const trained = JSON.parse(parallel.stdout).members as { checkpoint: string; pid: number }[];
    expect(trained.map((m) => m.checkpoint)).toEqual([0, 1, 2].map((i) => path.join(runs, `side-m${i}.safetensors`)));
    const pids = trained.map((m) => m.pid);
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(printed.members[0].pid);
    expect(new Set(printed.members.map((m: { pid: number }) => m.pid)).size).toBe(1);
    for (const i of [0, 1]) expect(fs.readFileSync(trained[i].checkpoint).equals(fs.readFileSync(members[i]))).toBe(true);
    expect(loadCheckpoint(trained[2].checkpoint).meta.config.train.seed).toBe(9);
  }, 180_000);

  it('members side by side give lavapipe one thread each and tune the kernels, keeping what the user set', () => {
    expect(memberEnv(2, {})).toMatchObject({ LP_NUM_THREADS: '1', SENSEACT_TUNE: 'tune' });
    expect(memberEnv(1, {}).LP_NUM_THREADS).toBeUndefined();
    expect(memberEnv(2, { LP_NUM_THREADS: '4', SENSEACT_TUNE: 'off' })).toMatchObject({ LP_NUM_THREADS: '4', SENSEACT_TUNE: 'off' });
  });

  it.skipIf(!gpu)('train --members on WebGPU tunes the kernels once for all members, and side by side writes the bytes of one after another', () => {
    const config = path.join(runs, 'tiny-gpu.json');
    fs.writeFileSync(config, JSON.stringify({ ...WAYPOINT, train: { steps: 6, val_fraction: 0 } }));
    const cache = path.join(runs, 'kernels.json');
    const env = { SENSEACT_TUNE: undefined, SENSEACT_TUNE_CACHE: cache, LP_NUM_THREADS: undefined };
    const train = (out: string, jobs: string) => senseact(['train', '--data', dir, '--out', path.join(runs, out), '--config', config, '--backend', 'webgpu', '--members', '2', '--jobs', jobs, '--json'], env, 180_000);
    const side = train('gpu.safetensors', '2');
    expect(side.status, side.stderr).toBe(0);
    // Nothing set SENSEACT_TUNE: the members tuned because train --members asked them to, and saved their choices.
    const tuned = JSON.parse(fs.readFileSync(cache, 'utf8')) as { adapters: Record<string, { entries: Record<string, unknown> }> };
    expect(Object.values(tuned.adapters).flatMap((a) => Object.keys(a.entries)).length).toBeGreaterThan(0);
    // One after another in this process, with the choices now cached (mode 'cached'): the same kernels, the same bytes.
    const serial = train('gpu-serial.safetensors', '1');
    expect(serial.status, serial.stderr).toBe(0);
    for (const i of [0, 1]) expect(fs.readFileSync(path.join(runs, `gpu-m${i}.safetensors`)).equals(fs.readFileSync(path.join(runs, `gpu-serial-m${i}.safetensors`)))).toBe(true);
  }, 300_000);

  it('train --jobs names the member whose training failed, with the refusal\'s exit code', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-empty-'));
    try {
      const run = senseact(['train', '--data', empty, '--out', path.join(runs, 'none.safetensors'), '--backend', 'cpu', '--members', '2', '--jobs', '2'], {}, 120_000);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^senseact: member [12]\/2 \(\S*none-m[01]\.safetensors\): \S+: no finalized episode logs/m);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);

  it('eval names the member it cannot find', () => {
    const run = senseact(['eval', '--policy', `${member('a')},${path.join(runs, 'missing.safetensors')}`, '--task', 'gentle-grasp', '--episodes', '1', '--seed', '1000'], {}, 60_000);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--policy: no such checkpoint: \S*missing\.safetensors$/m);
  });
});
