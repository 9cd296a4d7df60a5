// `senseact serve` against `senseact sim serve --faults`: real processes, the
// real roslib client, faults injected one at a time and each outcome asserted
// from the daemon's logs, its HTTP endpoints and the commands the simulator
// received.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient, get, isTwist, isZeroTwist, killAll, parseMetrics, post, sleep, startServe, startSim, until, type Command, type Served, type SimServer } from './procs.ts';

const RATE = 10;
const PERIOD_MS = 1000 / RATE;
const GRIPPER = 0.3;
const POLICY = `scripted:wave?gripper=${GRIPPER}&amplitude=0.06`;
// The test machine has two loaded cores: 100 Hz streams over the websocket
// arrive with gaps up to ~100 ms, so fast streams get 0.3 s before they count
// as stale (smell keeps its two periods, 1 s). Reconnect quickly for the test.
const CONFIG = {
  rate_hz: RATE,
  robot: { reconnect: { initial_s: 0.2, max_s: 1, connect_timeout_s: 2 } },
  health: { resume_after_s: 1, min_stale_s: 0.3 },
};

let sim: SimServer;
let serve: Served;
let client: SimClient;

type Log = Record<string, any>;
const logsSince = (t: number, msg: string) => serve.proc.logs().filter((l) => (l.time as number) >= t && l.msg === msg);

async function status(): Promise<Log> {
  return (await get(serve.http, '/status')).json();
}

async function running(timeoutMs = 20_000): Promise<void> {
  await until(async () => (await status()).state === 'running', timeoutMs, 'the daemon to be running');
}

/** Waits for a safe stop logged at or after t whose reasons include `reason`. */
async function safeStop(t: number, reason: string, timeoutMs = 10_000): Promise<Log> {
  return serve.proc.waitFor(() => logsSince(t, 'safe stop').find((l) => (l.reasons as string[]).some((r) => r.includes(reason))), timeoutMs, `a safe stop for ${reason}`);
}

async function resumed(t: number, timeoutMs = 20_000): Promise<Log> {
  return serve.proc.waitFor(() => logsSince(t, 'resumed')[0], timeoutMs, 'motion to resume');
}

/** Between a stop and the resume, the simulator received only stops: zero twist, gripper held. */
async function onlyStopsBetween(fromMs: number, toMs: number): Promise<Command[]> {
  // A command already on the wire when the stop was decided may land a few ms later.
  const cmds = (await client.commands(fromMs + 15)).filter((c) => c.t_ms < toMs && c.client === serveClient);
  for (const c of cmds) {
    if (isTwist(c)) expect(isZeroTwist(c), `moving twist at ${c.t_ms} while stopped (${fromMs}..${toMs})`).toBe(true);
    else expect(c.msg.data).toBeCloseTo(GRIPPER, 6);
  }
  return cmds;
}

let serveClient = -1;

beforeAll(async () => {
  sim = await startSim();
  client = await SimClient.connect(sim.url);
  serve = await startServe(POLICY, sim.url, CONFIG);
}, 90_000);

afterAll(async () => {
  client?.close();
  await killAll();
});

describe('senseact serve against sim serve (roslib, real processes)', () => {
  it('runs the policy and the robot moves; the first command on the connection is a stop', async () => {
    await until(async () => (await get(serve.http, '/readyz')).status === 200, 30_000, '/readyz 200');
    await running();
    const joints = client.watchJoints();
    const health = client.collect<{ header: { stamp: object }; status: { level: number; name: string; message: string; values: { key: string; value: string }[] }[] }>('/senseact/health', 'diagnostic_msgs/DiagnosticArray');
    const lifts: number[] = [];
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      if (joints.position.lift !== undefined) lifts.push(joints.position.lift);
    }
    joints.stop();
    health.stop();
    expect(Math.max(...lifts) - Math.min(...lifts)).toBeGreaterThan(0.015);
    // Health as diagnostic_msgs/DiagnosticArray on /senseact/health (2 Hz), a status per component.
    expect(health.messages.length).toBeGreaterThanOrEqual(4);
    const last = health.messages.at(-1)!;
    expect(last.header.stamp).toHaveProperty('nanosec');
    const names = last.status.map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['senseact', 'senseact/stream/proprio', 'senseact/connection', 'senseact/inference', 'senseact/estop']));
    expect(last.status[0].message).toMatch(/^running/);
    expect(last.status.find((x) => x.name === 'senseact/stream/proprio')!.values.map((v) => v.key)).toEqual(expect.arrayContaining(['rate_hz', 'age_s', 'masked']));
    const cmds = await client.commands();
    const twists = cmds.filter(isTwist);
    serveClient = twists[0].client;
    expect(isZeroTwist(twists[0])).toBe(true);
    expect(twists.some((c) => !isZeroTwist(c))).toBe(true);
    expect((await get(serve.http, '/healthz')).status).toBe(200);
    const m = parseMetrics((await get(serve.http, '/metrics')).body);
    expect(m.get('senseact_ticks_total')).toBeGreaterThan(10);
    expect(m.get('senseact_commands_total')).toBeGreaterThan(5);
    expect(m.get('senseact_connected')).toBe(1);
    expect(m.get('senseact_tick_duration_seconds_count')).toBeGreaterThan(5);
    expect(m.has('senseact_stream_rate_hertz{stream="proprio"}')).toBe(true);
    expect(m.has('senseact_stream_age_seconds{stream="smell"}')).toBe(true);
    expect(m.has('senseact_inference_latency_seconds_bucket{le="+Inf"}')).toBe(true);
  });

  it('a stream that stops: ERROR within two expected periods, safe stop within one tick, resumes', async () => {
    await running();
    const t0 = Date.now();
    await client.fault({ fault: 'stop', topic: '/e_nose/raw', duration_s: 2.5 });
    const stop = await safeStop(t0, 'stream smell');
    const smell = (stop.components as Log[]).find((c) => c.name === 'stream smell')!;
    expect(smell.level).toBe('STALE');
    // Smell is expected at 2 Hz: stale after two periods (1 s), seen by the 50 Hz watchdog.
    // (age_s is reported to the millisecond: an age of 1.0004 s, already stale, reads "1.000".)
    expect(Number(smell.values.age_s)).toBeGreaterThanOrEqual(1.0);
    expect(Number(smell.values.age_s)).toBeLessThan(1.0 + 0.15);
    expect(stop.sent).toBe(true);
    expect((await get(serve.http, '/readyz')).status).toBe(503);
    const back = await resumed(stop.time);
    await onlyStopsBetween(stop.time, back.time);
    // The stop went out when the ERROR was seen (t_ns), not at the next tick.
    const errorMs = stop.t_ns / 1e6;
    const firstStop = (await client.commands(errorMs - 50)).find((c) => c.client === serveClient && isTwist(c) && isZeroTwist(c))!;
    expect(firstStop.t_ms - errorMs).toBeLessThanOrEqual(PERIOD_MS);
    // Stopped until smell was healthy again for resume_after_s.
    expect(back.time - t0).toBeGreaterThan(2500);
    await sleep(800);
    expect((await client.commands(back.time)).filter((c) => isTwist(c) && !isZeroTwist(c)).length).toBeGreaterThan(0);
  });

  it('a NaN burst on touch: rejected (values ERROR), safe stop, resumes after the hold time', async () => {
    await running();
    const before = (await status()).streams['tactile/left'].counters.malformed;
    const t0 = Date.now();
    await client.fault({ fault: 'nan', topic: '/tactile/left', count: 10 });
    const stop = await safeStop(t0, 'stream tactile/left');
    expect((stop.messages as string[]).join()).toMatch(/values: .*malformed.*must be finite/);
    // All ten rejected and counted (they arrive over ~100 ms at 100 Hz).
    await until(async () => (await status()).streams['tactile/left'].counters.malformed - before >= 10, 5000, '10 rejected samples');
    expect((await status()).streams['tactile/left'].counters.malformed - before).toBe(10);
    const back = await resumed(stop.time);
    await onlyStopsBetween(stop.time, back.time);
  });

  it('a timestamp jump: samples from the future rejected (timestamps ERROR), safe stop, resumes', async () => {
    await running();
    const t0 = Date.now();
    await client.fault({ fault: 'time_jump', topic: '/joint_states', offset_s: 3, duration_s: 1.5 });
    const stop = await safeStop(t0, 'stream proprio');
    expect((stop.messages as string[]).join()).toMatch(/timestamps: .*in the future/);
    const back = await resumed(stop.time);
    await onlyStopsBetween(stop.time, back.time);
    expect((await status()).streams.proprio.rejected_by_reason.timestamp).toBeGreaterThan(10);
  });

  it('malformed messages and wrong types: dropped and counted, the daemon keeps running', async () => {
    await running();
    const s0 = await status();
    const t0 = Date.now();
    await client.fault({ fault: 'malformed', topic: '/joint_states', kind: 'wrong_type', count: 3 });
    await client.fault({ fault: 'malformed', topic: '/joint_states', kind: 'missing_fields', count: 3 });
    await client.fault({ fault: 'malformed', topic: '/tactile/right', kind: 'bad_length', count: 3 });
    await client.fault({ fault: 'malformed', topic: '/e_nose/raw', kind: 'not_json', count: 3 });
    await client.fault({ fault: 'malformed', topic: '/tactile/left', kind: 'not_an_op', count: 3 });
    await client.fault({ fault: 'nan', topic: '/tactile/right', count: 3, literal: true });
    await safeStop(t0, 'stream proprio');
    await until(async () => (await status()).robot.counters.malformed_frames - s0.robot.counters.malformed_frames >= 9, 10_000, '9 undecodable frames counted');
    await until(async () => (await status()).streams.proprio.counters.malformed - s0.streams.proprio.counters.malformed >= 6, 5000, '6 rejected proprio samples');
    const s = await status();
    expect(s.streams.proprio.counters.malformed - s0.streams.proprio.counters.malformed).toBe(6);
    expect(s.streams['tactile/right'].counters.malformed - s0.streams['tactile/right'].counters.malformed).toBe(3);
    expect((await get(serve.http, '/healthz')).status).toBe(200);
    expect(serve.proc.exit).toBeNull();
    const m = parseMetrics((await get(serve.http, '/metrics')).body);
    expect(m.get('senseact_ros_malformed_frames_total')).toBeGreaterThanOrEqual(9);
    expect(m.get('senseact_stream_rejected_total{stream="proprio",reason="malformed"}')).toBeGreaterThanOrEqual(6);
    await resumed(t0);
  });

  it('the e-stop topic stops the robot; releasing it resumes', async () => {
    await running();
    const t0 = Date.now();
    client.publish('/senseact/estop', 'std_msgs/Bool', { data: true });
    const stop = await safeStop(t0, 'estop');
    await sleep(1500);
    expect((await status()).state).toBe('stopped');
    client.publish('/senseact/estop', 'std_msgs/Bool', { data: false });
    const back = await resumed(stop.time);
    await onlyStopsBetween(stop.time, back.time);
  });

  it('sim server killed mid-run: no motion while disconnected, /readyz fails, reconnects, stop first, resumes', async () => {
    await running();
    client.close();
    const tKill = Date.now();
    sim.proc.kill('SIGKILL');
    await sim.proc.exited;
    const drop = await serve.proc.waitFor(() => logsSince(tKill, 'safe stop').find((l) => (l.reasons as string[]).includes('connection')), 5000, 'a safe stop for the connection');
    expect(drop.sent).toBe(false); // nothing can be sent, and nothing is queued
    await until(async () => (await get(serve.http, '/readyz')).status === 503, 3000, '/readyz 503');
    const ready = (await get(serve.http, '/readyz')).json();
    expect(ready.reasons.join()).toMatch(/robot (disconnected|connecting)/);
    const sentAtDrop = parseMetrics((await get(serve.http, '/metrics')).body).get('senseact_commands_total')!;
    await sleep(2000); // down for a while: the daemon keeps retrying with backoff
    const down = parseMetrics((await get(serve.http, '/metrics')).body);
    expect(down.get('senseact_connected')).toBe(0);
    expect(down.get('senseact_commands_total')).toBe(sentAtDrop);

    const tRestart = Date.now();
    sim = await startSim({ port: sim.port });
    client = await SimClient.connect(sim.url);
    const conn = await serve.proc.waitFor(() => logsSince(tRestart, 'robot connected').find((l) => (l.reconnects as number) >= 1), 15_000, 'the daemon to reconnect');
    const back = await resumed(conn.time, 20_000);
    await sleep(600);
    const cmds = await client.commands();
    const mine = cmds.filter((c) => c.client === cmds.find(isTwist)!.client);
    serveClient = mine[0].client;
    const twists = mine.filter(isTwist);
    // The very first motion message on the new connection is a stop; nothing stale replayed.
    expect(isZeroTwist(twists[0])).toBe(true);
    for (const c of twists) {
      const s = c.msg.header!.stamp;
      const stampMs = (s.sec ?? s.secs) * 1000 + (s.nanosec ?? s.nsecs) / 1e6;
      expect(stampMs, 'a command stamped before the reconnect (replayed from a queue)').toBeGreaterThanOrEqual(conn.time - 50);
    }
    await onlyStopsBetween(conn.time - 1000, back.time);
    expect(twists.some((c) => !isZeroTwist(c))).toBe(true);
    const m = parseMetrics((await get(serve.http, '/metrics')).body);
    expect(m.get('senseact_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect((await get(serve.http, '/readyz')).status).toBe(200);
  });

  it('SIGTERM: safe stop published, logs flushed, exit 0', async () => {
    await running();
    const t0 = Date.now();
    serve.proc.kill('SIGTERM');
    const exit = await serve.proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const logs = serve.proc.logs();
    expect(logs.find((l) => l.msg === 'shutdown: safe stop')?.sent).toBe(true);
    expect(logs.at(-1)?.msg).toBe('stopped');
    await sleep(200);
    const after = (await client.commands(t0)).filter((c) => c.client === serveClient && isTwist(c));
    expect(after.length).toBeGreaterThan(0);
    expect(isZeroTwist(after.at(-1)!)).toBe(true);
  });
});

describe('slow inference (injected 150 ms delay at 10 Hz)', () => {
  let slow: Served;
  it('counts overruns, never runs two inferences at once, never piles up commands', async () => {
    slow = await startServe('scripted:wave?delay_ms=150', sim.url, CONFIG);
    await until(async () => (await get(slow.http, '/status')).json().state === 'running', 30_000, 'the slow daemon to run');
    const t0 = Date.now();
    await sleep(3000);
    const t1 = Date.now();
    const s = (await get(slow.http, '/status')).json();
    const m = parseMetrics((await get(slow.http, '/metrics')).body);
    expect(m.get('senseact_tick_overruns_total')).toBeGreaterThan(8);
    expect(s.loop.inflight_max).toBe(1);
    expect(s.components.find((c: Log) => c.name === 'inference').level).toBe('WARN');
    expect(s.components.find((c: Log) => c.name === 'loop').level).toBe('WARN');
    const all = await client.commands(t0);
    const mine = all.filter((c) => c.t_ms < t1 && isTwist(c) && c.client === all.filter(isTwist).at(-1)!.client);
    // One inference per two ticks: about 5 commands a second, never more than one per tick.
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.length).toBeLessThanOrEqual(Math.ceil(((t1 - t0) / 1000) * RATE) + 1);
    // Policy commands never come in bursts (a safe stop may follow one at once, by design).
    const moves = mine.filter((c) => !isZeroTwist(c));
    const gaps = moves.slice(1).map((c, i) => c.t_ms - moves[i].t_ms);
    expect(Math.min(...gaps)).toBeGreaterThan(PERIOD_MS / 2);
    slow.proc.kill('SIGTERM');
    expect((await slow.proc.exited).code).toBe(0);
  });
});
