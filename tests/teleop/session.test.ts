// The recording session against a fake robot on real timers: episodes saved,
// discarded and re-recorded as MCAP logs through sensors/, resume into an
// existing dataset, the dead-man rule at the session, and the warnings raised
// while recording when a stream goes stale or falls below its rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dataset, LogReader } from '../../sensors/index.ts';
import { episodeFile, parseTeleopConfig, RecordingSession, scanDataset, type SessionEvent, type TeleopConfig } from '../../teleop/index.ts';
import { FAKE_RATES, FakeRobot } from './fake-robot.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const config = (over: object = {}): TeleopConfig =>
  parseTeleopConfig({
    streams: Object.fromEntries(Object.entries(FAKE_RATES).filter(([s]) => s !== 'action').map(([s, hz]) => [s, { expected_hz: hz }])),
    health: { warn_after_start_s: 0.3 },
    operator: 'tester',
    ...over,
  });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function open(dir: string, cfg = config()) {
  const robot = new FakeRobot();
  await robot.start();
  const session = await RecordingSession.open({ robot, outDir: dir, task: 'fake-task', config: cfg, seed: 100 });
  const events: SessionEvent[] = [];
  session.on((e) => events.push(e), true);
  cleanups.push(async () => {
    await session.close();
    await robot.close();
  });
  return { robot, session, events };
}

const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-session-'));
  cleanups.unshift(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

describe('recording session', () => {
  it('saves, discards and re-records episodes; each saved log is final at once and holds every stream', async () => {
    const dir = tmp();
    const { robot, session } = await open(dir);
    expect(await session.command('save_success')).toMatchObject({ ok: false, message: 'not recording' });

    expect((await session.command('start')).ok).toBe(true);
    expect(fs.existsSync(path.join(dir, episodeFile('fake-task', 0) + '.partial'))).toBe(true);
    expect((await session.command('start')).ok).toBe(false); // already recording
    session.hold('test', { x: 1, y: 0, z: 0, yaw: 0, gripper: 0 }, 250);
    await sleep(700);
    const t0 = performance.now();
    expect((await session.command('save_success')).ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(500); // durable without post-processing
    const first = path.join(dir, episodeFile('fake-task', 0));
    expect(fs.existsSync(first)).toBe(true);
    expect(fs.existsSync(first + '.partial')).toBe(false);

    await session.command('start');
    await sleep(200);
    await session.command('discard');
    expect(session.status().episode).toBe(1);
    await session.command('start');
    await sleep(200);
    expect((await session.command('rerecord')).ok).toBe(true);
    await sleep(300);
    await session.command('save_failure');
    expect(robot.resets).toEqual([100, 101, 101, 101]);

    expect(fs.readdirSync(dir).sort()).toEqual([episodeFile('fake-task', 0), episodeFile('fake-task', 1)]);
    const st = session.status();
    expect(st.saved.map((e) => [e.index, e.success])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(st.discarded).toBe(2);

    const reader = await LogReader.open(first);
    const counts: Record<string, number> = {};
    let forward = 0;
    for await (const s of reader.samples()) {
      counts[s.stream] = (counts[s.stream] ?? 0) + 1;
      if (s.stream === 'action' && (s.data as { linear: number[] }).linear[0] > 0) forward++;
    }
    await reader.close();
    for (const s of Object.keys(FAKE_RATES)) expect(counts[s], s).toBeGreaterThan(0);
    expect(forward).toBeGreaterThan(0);
    expect(reader.episode.meta).toMatchObject({ task: 'fake-task', robot: 'fake-robot', operator: 'tester', seed: 100, success: true });
    const info = await (await Dataset.open(dir)).info();
    expect(info.episodes.map((e) => e.success)).toEqual([true, false]);
  });

  it('resumes into an existing dataset at the next free index, past crashed logs', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, episodeFile('fake-task', 4)), '');
    fs.writeFileSync(path.join(dir, episodeFile('fake-task', 6) + '.partial'), '');
    expect(scanDataset(dir)).toEqual({ next: 7, finalized: 1, partial: [episodeFile('fake-task', 6) + '.partial'] });
    const { session, events } = await open(dir);
    expect(session.status().episode).toBe(7);
    expect(events.map((e) => e.message).join('\n')).toMatch(/unfinalized log.*senseact dataset repair/);
    await session.command('start');
    await sleep(200);
    await session.command('save_success');
    expect(fs.existsSync(path.join(dir, episodeFile('fake-task', 7)))).toBe(true);
    expect(session.status().episodes_in_dataset).toBe(2);
  });

  it('stops commanding motion when input is no longer refreshed, then stops sending (dead-man)', async () => {
    const dir = tmp();
    const { robot, session } = await open(dir);
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      session.hold('k', { x: 1, y: 0, z: 0, yaw: 0, gripper: 0 }, 200);
      await sleep(20);
    }
    expect(robot.commands.some((c) => c.linear[0] > 0)).toBe(true);
    // Let go without a release: the hold expires by itself.
    const t1 = performance.now();
    while (robot.commands.at(-1)!.linear[0] !== 0) {
      expect(performance.now() - t1, 'stop after the input timeout').toBeLessThan(1000);
      await sleep(10);
    }
    await sleep(1000); // the few stop commands after letting go
    const n = robot.commands.length;
    await sleep(500);
    expect(robot.commands.length).toBe(n); // idle and released: nothing more is sent
    session.gripper('close');
    await sleep(300);
    expect(robot.commands.at(-1)!.gripper).toBe(1);
  });

  it('warns at once while recording when a stream goes stale, and when one falls below its rate', async () => {
    const dir = tmp();
    const { robot, session, events } = await open(dir);
    robot.setRate('camera/wrist', 0);
    await sleep(600);
    expect(events.filter((e) => e.kind === 'warning')).toEqual([]); // not recording: status only
    expect(session.status().streams.find((s) => s.stream === 'camera/wrist')!.level).toBe('STALE');
    robot.setRate('camera/wrist', FAKE_RATES['camera/wrist']);
    await session.command('start');
    await sleep(600);
    expect(events.filter((e) => e.kind === 'warning')).toEqual([]);

    robot.setRate('camera/wrist', 0);
    const t0 = performance.now();
    while (!events.some((e) => e.kind === 'warning' && e.message.startsWith('camera/wrist: STALE'))) {
      expect(performance.now() - t0, 'stale warning').toBeLessThan(1000);
      await sleep(20);
    }
    expect(session.status().warnings.join()).toMatch(/camera\/wrist: STALE/);

    robot.setRate('tactile/left', FAKE_RATES['tactile/left'] / 4);
    const t1 = performance.now();
    while (!events.some((e) => e.kind === 'warning' && /^tactile\/left: (WARN|ERROR) .*rate/.test(e.message))) {
      expect(performance.now() - t1, 'rate warning').toBeLessThan(2500);
      await sleep(20);
    }
    robot.setRate('camera/wrist', FAKE_RATES['camera/wrist']);
    const t2 = performance.now();
    while (!events.some((e) => e.kind === 'recovered' && e.message.startsWith('camera/wrist'))) {
      expect(performance.now() - t2, 'recovery').toBeLessThan(4500); // the gap leaves the 2 s rate window, then 1 s of OK
      await sleep(20);
    }
  });

  it('refuses to start while the robot is disconnected and says why', async () => {
    const dir = tmp();
    const { robot, session, events } = await open(dir);
    robot.disconnect();
    expect(await session.command('start')).toMatchObject({ ok: false, message: expect.stringMatching(/not connected \(unplugged\)/) });
    expect(events.some((e) => e.kind === 'connection' && e.message === 'unplugged')).toBe(true);
  });
});
