// ReplayRobot: a recorded sim episode (MCAP, through sensors/) played through
// the whole runtime at 10× real time, open loop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
    const config = parseConfig({ rate_hz: 20, health: { resume_after_s: 0.5 } });
    const controller = await createController('scripted:wave');
    const streams = resolveStreams(config, controller);
    const robot = (await createRobot(`replay:${file}?speed=4`, config, streams, logger)) as ReplayRobot;
    expect(robot).toBeInstanceOf(ReplayRobot);
    const rt = new Runtime({ config, controller, robot, streams, logger });
    const okStreams = new Set<string>();
    rt.loop.events.on('tick', () => {
      for (const [name, st] of Object.entries(rt.loop.report?.streams ?? {})) if (st.health.level === 'OK') okStreams.add(name);
    });
    const t0 = performance.now();
    await rt.start();
    await robot.ended;
    const wallS = (performance.now() - t0) / 1000;
    const status = rt.status() as { loop: { ticks: number; overruns: number }; streams: Record<string, { counters: { accepted: number; rejected: number } }> };
    await until(() => rt.loop.report?.reasons.includes('connection'), 10_000, 'the end of the log to stop the robot');
    await rt.stop();
    // 4× real time, on the log's clock: duration × rate tick slots (run, or skipped as overruns) in a quarter of the time.
    expect(wallS).toBeLessThan(durationS / 4 + 3);
    const slots = status.loop.ticks + status.loop.overruns;
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
    // When the log runs out, its streams go stale and the robot is gone: motion ends in a safe stop.
    const lastStop = logs.map((l) => l.msg).lastIndexOf('safe stop');
    expect(lastStop).toBeGreaterThan(logs.map((l) => l.msg).lastIndexOf('resumed'));
  });
});
