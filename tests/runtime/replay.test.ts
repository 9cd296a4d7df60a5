// ReplayRobot: a recorded sim episode (MCAP, through sensors/) played through
// the whole runtime at 10× real time, open loop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogReader } from '../../sensors/index.ts';
import { recordEpisodes } from '../../sim/index.ts';
import { parseConfig } from '../../runtime/config.ts';
import { ReplayRobot } from '../../runtime/replayRobot.ts';
import { until } from './procs.ts';
import { Runtime, createController, createRobot, resolveStreams, type RuntimeLogger } from '../../runtime/runtime.ts';

const logs: { msg: string; obj: object }[] = [];
const logger: RuntimeLogger = {
  info: (obj, msg) => void logs.push({ msg, obj }),
  warn: (obj, msg) => void logs.push({ msg, obj }),
  error: (obj, msg) => void logs.push({ msg, obj }),
  debug: () => {},
};

describe('ReplayRobot', () => {
  it('plays a recorded episode at 4× through streams, health and the loop on the log clock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-replay-'));
    const { logs: written, results } = await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 1, firstSeed: 3, outDir: dir, fsync: false });
    const file = written[0].file;
    const durationS = results[0].ticks / 20;
    const recDir = path.join(dir, 'recorded');
    const config = parseConfig({ rate_hz: 20, health: { resume_after_s: 0.5 }, recording: { dir: recDir } });
    const controller = await createController('scripted:wave');
    const streams = resolveStreams(config, controller);
    const robot = (await createRobot(`replay:${file}?speed=4`, config, streams, logger)) as ReplayRobot;
    expect(robot).toBeInstanceOf(ReplayRobot);
    const rt = new Runtime({ config, controller, robot, streams, logger });
    const okStreams = new Set<string>();
    rt.loop.events.on('tick', () => {
      for (const [name, st] of Object.entries(rt.loop.report?.streams ?? {})) if (st.health.level === 'OK') okStreams.add(name);
    });
    await rt.start();
    await robot.ended;
    const rtStatus = rt.status() as { components: { name: string; level: string }[] };
    const status = rt.status() as { loop: { ticks: number; overruns_late: number }; streams: Record<string, { counters: { accepted: number; rejected: number } }> };
    await until(() => rt.loop.report?.reasons.includes('connection'), 10_000, 'the end of the log to stop the robot');
    await rt.stop();
    // The loop runs on the log's clock (up to 4× real time; slower if delivery cannot keep up):
    // duration × rate tick slots, each run or skipped as a late-timer overrun.
    const slots = status.loop.ticks + status.loop.overruns_late;
    expect(slots).toBeGreaterThan(durationS * 20 * 0.9);
    expect(slots).toBeLessThan(durationS * 20 * 1.1 + 5);
    for (const name of ['tactile/left', 'tactile/right', 'smell', 'proprio']) {
      expect(status.streams[name].counters.rejected, name).toBe(0);
      expect(status.streams[name].counters.accepted, name).toBeGreaterThan(0);
    }
    expect([...okStreams].sort()).toEqual(['proprio', 'smell', 'tactile/left', 'tactile/right']);
    const open = robot.openLoop();
    expect(open.commands).toBeGreaterThan(10);
    expect(open.logged_actions).toBe(results[0].ticks);
    expect(open.mean_abs_error!.gripper).toBeGreaterThanOrEqual(0);
    // Recording: the streams as received and the commands sent, in a finalized, readable MCAP log.
    const files = fs.readdirSync(recDir).filter((f) => f.endsWith('.mcap'));
    expect(files).toHaveLength(1);
    const reader = await LogReader.open(path.join(recDir, files[0]), { recover: false });
    expect(reader.indexed).toBe(true);
    expect(reader.count('proprio')).toBeGreaterThan(100);
    expect(reader.count('tactile/left')).toBeGreaterThan(100);
    // Every command and stop the loop sent (the shutdown stop comes after the recording closes).
    expect(reader.count('action')).toBeGreaterThanOrEqual(open.commands - 2);
    expect(reader.count('action')).toBeLessThanOrEqual(open.commands);
    expect(reader.episode.meta?.task).toBe('serve');
    await reader.close();
    expect(rtStatus.components.some((c) => c.name === 'disk' && c.level === 'OK')).toBe(true);
    // When the log runs out, its streams go stale and the robot is gone: motion ends in a safe stop.
    const lastStop = logs.map((l) => l.msg).lastIndexOf('safe stop');
    expect(lastStop).toBeGreaterThan(logs.map((l) => l.msg).lastIndexOf('resumed'));
  });
});
