// The runtime's parts on their own: config validation, backoff, the clock
// tracker, ROS message conversion, the safety filter, metrics text, health
// rollup and the stop gate, and the control loop against a fake robot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock, Stream, Synchronizer, systemClock, type ActionData } from '../../sensors/index.ts';
import { ConfigError, loadConfig, parseConfig } from '../../runtime/config.ts';
import { backoffDelayS } from '../../runtime/rosbridgeRobot.ts';
import { ClockTracker } from '../../runtime/clockTracker.ts';
import { CONVERTERS, parseStamp, type ConvertContext } from '../../runtime/rosMessages.ts';
import { SafetyFilter } from '../../runtime/safety.ts';
import { Registry } from '../../runtime/metrics.ts';
import { HealthMonitor, StopGate, toDiagnostics } from '../../runtime/healthMonitor.ts';
import { ControlLoop } from '../../runtime/controlLoop.ts';
import { ScriptedController, parseScriptedSpec } from '../../runtime/scripted.ts';
import { newCounters, type ConnectionState, type Robot, type RobotEvents } from '../../runtime/robot.ts';
import { parseMetrics, sleep, until } from './procs.ts';
import { meaningfulLines, senseact } from '../helpers/cli.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-rt-'));

describe('config', () => {
  it('fills defaults and merges stream overrides over the default streams', () => {
    const c = parseConfig({ streams: { proprio: { topic: '/robot/joints', health: { stale_after_s: 0.5 } }, 'tactile/palm': { topic: '/palm', type: 'std_msgs/Float32MultiArray' } } });
    expect(c.rate_hz).toBe(10);
    expect(c.streams.proprio).toMatchObject({ topic: '/robot/joints', type: 'sensor_msgs/JointState', required: 'auto', health: { stale_after_s: 0.5 } });
    expect(c.streams['camera/wrist'].topic).toBe('/camera/color/image_raw/compressed');
    expect(c.streams['tactile/palm'].type).toBe('std_msgs/Float32MultiArray');
    expect(c.robot.kinematics).toMatchObject({ kind: 'telescoping', arm_root_m: 0.15 });
  });

  it('names the file and the field in every error (JSON and YAML)', () => {
    const dir = tmp();
    const yml = path.join(dir, 'serve.yaml');
    fs.writeFileSync(yml, 'rate_hz: 10\nsafety:\n  max_linear_m_s: 9\n');
    expect(() => loadConfig(yml)).toThrow(`${yml}: safety.max_linear_m_s: Too big`);
    fs.writeFileSync(yml, 'streams:\n  proprio:\n    topic: joint_states\n');
    expect(() => loadConfig(yml)).toThrow(`${yml}: streams.proprio.topic: a topic name starts with /`);
    fs.writeFileSync(yml, 'health:\n  resume_after: 3\n');
    expect(() => loadConfig(yml)).toThrow(/serve\.yaml: health: Unrecognized key: "resume_after"/);
    fs.writeFileSync(yml, 'rate_hz: [1\n');
    expect(() => loadConfig(yml)).toThrow(/serve\.yaml: not valid YAML \(line \d+, column \d+\)/);
    const json = path.join(dir, 'serve.json');
    fs.writeFileSync(json, JSON.stringify({ robot: { reconnect: { jitter: 2 } } }));
    expect(() => loadConfig(json)).toThrow(`${json}: robot.reconnect.jitter: Too big`);
    fs.writeFileSync(json, '{"rate_hz": ');
    expect(() => loadConfig(json)).toThrow(/serve\.json: not valid JSON/);
    expect(() => loadConfig(path.join(dir, 'missing.yaml'))).toThrow(ConfigError);
    fs.writeFileSync(json, JSON.stringify({ streams: { 'lidar/front': { topic: '/scan', type: 'sensor_msgs/JointState' } } }));
    expect(() => loadConfig(json)).toThrow(`${json}: streams.lidar/front: a stream name starts with its modality`);
  });

  it('reads a full YAML config', () => {
    const file = path.join(tmp(), 'ok.yml');
    fs.writeFileSync(file, 'rate_hz: 20\nhealth:\n  require_ack: true\nstreams:\n  camera/wrist:\n    enabled: false\n');
    const c = loadConfig(file);
    expect(c.rate_hz).toBe(20);
    expect(c.health.require_ack).toBe(true);
    expect(c.streams['camera/wrist'].enabled).toBe(false);
  });
});

describe('reconnect backoff', () => {
  const r = parseConfig({}).robot.reconnect;
  it('grows exponentially, is capped, and jitter only shortens it', () => {
    const noJitter = [0, 1, 2, 3, 4, 5, 10, 50].map((a) => backoffDelayS(a, r, () => 0));
    expect(noJitter.slice(0, 5)).toEqual([0.25, 0.5, 1, 2, 4]);
    expect(noJitter.slice(5)).toEqual([5, 5, 5]);
    for (let a = 0; a < 20; a++) {
      const d = backoffDelayS(a, r, () => 0.999);
      expect(d).toBeGreaterThan(0.5 * Math.min(5, 0.25 * 2 ** a) - 1e-9);
      expect(d).toBeLessThanOrEqual(Math.min(5, 0.25 * 2 ** a));
    }
  });
});

describe('clock tracker', () => {
  it('follows an unsynchronized clock, keeps latency, and lets large jumps show until they persist', () => {
    const t = new ClockTracker({ window_s: 2, step_follow_s: 0.25, step_tolerance_s: 1, reanchor_after_s: 3 });
    const peerBehind = 7e9; // the peer clock is 7 s behind ours
    let now = 1e12;
    // 100 Hz, latency 1–5 ms.
    for (let i = 0; i < 300; i++, now += 1e7) {
      const lat = 1e6 + (i % 5) * 1e6;
      const m = t.map(now - lat - peerBehind, now);
      expect(m.captureNs).toBeLessThanOrEqual(now);
      if (i > 10) expect(now - m.captureNs).toBeGreaterThanOrEqual(0);
    }
    expect(now - 1e7 - t.map(now - 1e7 - 3e6 - peerBehind, now - 1e7 + 1).captureNs).toBeGreaterThan(1e6);
    // The peer falls 0.4 s further behind (the sim skipping ahead): followed within step_follow_s.
    let ages: number[] = [];
    for (let i = 0; i < 60; i++, now += 1e7) ages.push(now - t.map(now - 1e6 - peerBehind - 4e8, now).captureNs);
    expect(Math.max(...ages.slice(40))).toBeLessThan(5e6);
    // A +3 s jump: mapped into the future (sensors rejects it) until it has held for 3 s, then re-anchored.
    ages = [];
    let re = 0;
    for (let i = 0; i < 400; i++, now += 1e7) {
      const m = t.map(now - 1e6 - peerBehind - 4e8 + 3e9, now);
      if (m.reanchored) re++;
      ages.push(now - m.captureNs);
    }
    expect(ages[0]).toBeLessThan(-2.9e9);
    expect(re).toBe(1);
    expect(Math.abs(ages.at(-1)!)).toBeLessThan(5e6);
  });
});

function ctx(stream: string, over: Partial<ConvertContext> = {}): ConvertContext {
  return {
    stream,
    receiveNs: 5e18,
    useHeader: true,
    seq: 7,
    robot: parseConfig({}).robot,
    gripForce: () => 1.25,
    sinceFirstS: 10,
    mapStamp: (h) => h,
    ...over,
  };
}

describe('ROS messages → samples (validated by sensors/)', () => {
  it('converts the robot topics and accepts ROS 1 and ROS 2 stamps', () => {
    expect(parseStamp({ stamp: { sec: 3, nanosec: 5 } })).toEqual({ ns: 3e9 + 5, version: 2 });
    expect(parseStamp({ stamp: { secs: 3, nsecs: 5 } })).toEqual({ ns: 3e9 + 5, version: 1 });
    expect(parseStamp({ stamp: { sec: 'x' } })).toBeNull();
    const js = CONVERTERS['sensor_msgs/JointState'](
      { header: { stamp: { secs: 4, nsecs: 0 }, seq: 12 }, name: ['base_x', 'base_y', 'base_yaw', 'lift', 'arm', 'wrist_yaw', 'finger_left', 'finger_right'], position: [0.1, 0, 0, 1.1, 0.5, 0.2, 0.02, 0.03], velocity: [], effort: [] },
      ctx('proprio'),
    );
    const s = new Stream('proprio', { clock: new ManualClock(5e9) });
    const r = s.push({ ...js.raw, t_receive_ns: 4.001e9 });
    expect(r.ok).toBe(true);
    expect(js.version).toBe(1);
    expect(js.raw.seq).toBe(12);
    const d = js.raw.data as { gripper_opening: number; gripper_force: number; ee_pose: { x: number; z: number }; velocity: number[] };
    expect(d.gripper_opening).toBeCloseTo(0.05);
    expect(d.gripper_force).toBe(1.25);
    expect(d.ee_pose.x).toBeCloseTo(0.1 + 0.15 + 0.5);
    expect(d.ee_pose.z).toBeCloseTo(1.1);
    expect(d.velocity).toEqual(new Array(8).fill(0));
    const tac = CONVERTERS['std_msgs/Float32MultiArray']({ layout: { dim: [{ size: 4 }, { size: 4 }, { size: 3 }] }, data: new Array(48).fill(0.1) }, ctx('tactile/left'));
    expect(tac.raw.t_capture_ns).toBe(5e18); // no header: receive time
    expect(new Stream('tactile/left', { clock: new ManualClock(5e18) }).push(tac.raw).ok).toBe(true);
    const smell = CONVERTERS['std_msgs/Float32MultiArray']({ data: [1000, 2000] }, ctx('smell'));
    expect(smell.raw.data).toMatchObject({ channels: ['ch0', 'ch1'], units: ['ohm', 'ohm'], warmed_up: true });
  });

  it('malformed and wrong-type messages become samples that validation rejects, naming the field', () => {
    const reject = (stream: string, type: keyof typeof CONVERTERS, msg: unknown) => {
      const raw = CONVERTERS[type](msg, ctx(stream, { useHeader: false })).raw;
      const r = new Stream(stream, { clock: new ManualClock(5e18) }).push(raw);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.error.message;
    };
    expect(reject('proprio', 'sensor_msgs/JointState', { data: 'a std_msgs/String' })).toMatch(/proprio: data.names: .*expected array/);
    expect(reject('proprio', 'sensor_msgs/JointState', { name: ['a'], position: [null], velocity: [0], effort: [0] })).toMatch(/data.position.0/);
    expect(reject('tactile/left', 'std_msgs/Float32MultiArray', { layout: { dim: [{ size: 4 }, { size: 4 }, { size: 3 }] }, data: [...new Array(47).fill(0), null] })).toMatch(/data.forces.47: force is NaN/);
    expect(reject('tactile/left', 'std_msgs/Float32MultiArray', { layout: { dim: [{ size: 4 }, { size: 4 }, { size: 3 }] }, data: new Array(47).fill(0) })).toMatch(/need 48 forces, got 47/);
    expect(reject('camera/wrist', 'sensor_msgs/CompressedImage', { format: 'png', data: 'bm90IGEgcG5n' })).toMatch(/camera\/wrist: data\.width/);
    expect(reject('smell', 'std_msgs/Float32MultiArray', 42)).toMatch(/smell: data\./);
  });
});

describe('safety filter', () => {
  const cfg = parseConfig({ safety: { max_linear_m_s: 0.2, max_angular_rad_s: 1, max_linear_accel_m_s2: 1, max_angular_accel_rad_s2: 10, workspace: { min: [0, -1, 0.5], max: [1, 1, 1.2] }, max_grip_force_n: 5 } }).safety;
  const ctx = { dtS: 0.1, ee: null, baseYaw: 0, gripForceN: null };
  const act = (lin: number[], ang: number[] = [0, 0, 0], g = 0): ActionData => ({ linear: lin as [number, number, number], angular: ang as [number, number, number], gripper: g });

  it('limits velocity and acceleration per axis and zeroes non-finite values', () => {
    const f = new SafetyFilter(cfg);
    let r = f.filter(act([5, -5, NaN], [3, 0, 0]), ctx);
    expect(r.action.linear).toEqual([0.1, -0.1, 0]); // 1 m/s² × 0.1 s from rest
    expect(r.action.angular[0]).toBe(1);
    expect(r.limited.sort()).toEqual(['acceleration', 'non_finite', 'velocity']);
    r = f.filter(act([5, -5, 0]), ctx);
    expect(r.action.linear).toEqual([0.2, -0.2, 0]);
    f.noteStop(0);
    expect(f.filter(act([0.2, 0, 0]), ctx).action.linear[0]).toBeCloseTo(0.1);
  });

  it('keeps the end effector in the workspace box (in the world frame)', () => {
    const f = new SafetyFilter({ ...cfg, max_linear_accel_m_s2: 100 });
    const atTop = { ...ctx, ee: { x: 0.5, y: 0, z: 1.19 } };
    expect(f.filter(act([0.1, 0, 0.2]), atTop).action.linear).toEqual([0.1, 0, 0]);
    expect(f.filter(act([0, 0, -0.2]), atTop).action.linear[2]).toBe(-0.2);
    // Base turned 90°: base x is world y. At the world y limit, base-x motion is stopped.
    const turned = { ...ctx, baseYaw: Math.PI / 2, ee: { x: 0.5, y: 0.99, z: 0.8 } };
    const r = f.filter(act([0.2, 0.1, 0]), turned);
    expect(r.limited).toContain('workspace');
    expect(r.action.linear[0]).toBeCloseTo(0);
    expect(r.action.linear[1]).toBeCloseTo(0.1);
  });

  it('stops closing the gripper above the grip-force limit, and opens it above the hard limit', () => {
    const f = new SafetyFilter(cfg);
    f.filter(act([0, 0, 0], [0, 0, 0], 0.6), ctx);
    expect(f.filter(act([0, 0, 0], [0, 0, 0], 0.9), { ...ctx, gripForceN: 6 }).action.gripper).toBe(0.6);
    expect(f.filter(act([0, 0, 0], [0, 0, 0], 0.3), { ...ctx, gripForceN: 6 }).action.gripper).toBe(0.3);
    expect(f.filter(act([0, 0, 0], [0, 0, 0], 1), { ...ctx, gripForceN: 9 }).action.gripper).toBeCloseTo(0.25);
  });
});

describe('metrics text', () => {
  it('is valid Prometheus exposition with base units and _total counters', () => {
    const r = new Registry();
    const h = r.histogram('x_seconds', 'a histogram', [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    r.counter('y_total', 'a counter').inc(2, { stream: 'tactile/left', reason: 'a "quoted"\nvalue' });
    r.gauge('z_hertz', 'a gauge').set(NaN);
    expect(() => r.counter('bad', 'no suffix')).toThrow(/_total/);
    const text = r.render();
    const m = parseMetrics(text);
    expect(m.get('x_seconds_bucket{le="0.1"}')).toBe(1);
    expect(m.get('x_seconds_bucket{le="1"}')).toBe(2);
    expect(m.get('x_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(m.get('x_seconds_count')).toBe(3);
    expect(m.get('x_seconds_sum')).toBeCloseTo(5.55);
    expect(m.get('y_total{stream="tactile/left",reason="a \\"quoted\\"\\nvalue"}')).toBe(2);
    expect(text).toContain('# TYPE x_seconds histogram\n');
    expect(text).toContain('# TYPE y_total counter\n');
  });
});

describe('health rollup and the stop gate', () => {
  const health = parseConfig({ health: { resume_after_s: 1 } }).health;

  function setup(required: boolean) {
    const clock = new ManualClock(1e9);
    const stream = new Stream('proprio', { clock, config: { stale_after_s: 0.1 } });
    const monitor = new HealthMonitor({ streams: [{ stream, required, onWarn: 'mask' }], config: health, periodS: 0.1 });
    monitor.setConnection('connected', clock.nowNs(), 0);
    return { clock, stream, monitor };
  }
  const proprio = (t: number, seq: number) => ({ stream: 'proprio', t_capture_ns: t, t_receive_ns: t, seq, data: { names: ['a'], position: [0], velocity: [0], effort: [0], gripper_opening: 0, gripper_force: 0 } });

  it('a required stream that goes stale stops; an optional one only degrades (WARN, masked)', () => {
    for (const required of [true, false]) {
      const { clock, stream, monitor } = setup(required);
      stream.push(proprio(clock.nowNs(), 0));
      expect(monitor.evaluate(clock.nowNs()).stop).toBe(false);
      clock.advanceS(0.2);
      const r = monitor.evaluate(clock.nowNs());
      expect(r.stop).toBe(required);
      expect(r.level).toBe(required ? 'STALE' : 'WARN');
      expect(r.streams.proprio.masked).toBe(true);
      expect(r.streams.proprio.health.level).toBe('STALE');
      const diag = toDiagnostics(r, 'running', 'ws://robot');
      expect(diag[0]).toMatchObject({ name: 'senseact', level: required ? 3 : 1 });
      expect(diag.find((d) => d.name === 'senseact/stream/proprio')!.values).toContainEqual({ key: 'masked', value: 'true' });
    }
  });

  it('stops at once; resumes after healthy for resume_after_s, or also after an ack when required', () => {
    for (const requireAck of [false, true]) {
      const { clock, monitor } = setup(true);
      const gate = new StopGate({ resume_after_s: 1, require_ack: requireAck });
      monitor.setEstop(false, 'test');
      const step = (s: number) => {
        clock.advanceS(s);
        return gate.update(monitor.evaluate(clock.nowNs()), clock.nowNs());
      };
      monitor.setConnection('connected', clock.nowNs(), 0);
      // no streams pushed: stale → starting holds
      expect(gate.state).toBe('starting');
      const m2 = new HealthMonitor({ streams: [], config: health, periodS: 0.1 });
      m2.setConnection('connected', 0, 0);
      const ok = () => m2.evaluate(clock.nowNs());
      expect(gate.update(ok(), clock.nowNs()).hold).toBe(true);
      clock.advanceS(1.01);
      expect(gate.update(ok(), clock.nowNs()).resumed).toBe(true); // startup needs no ack
      m2.setEstop(true, 'test');
      const d = gate.update(ok(), clock.nowNs());
      expect(d).toMatchObject({ hold: true, entered: true });
      m2.setEstop(false, 'test');
      expect(gate.update(ok(), clock.nowNs()).hold).toBe(true);
      clock.advanceS(1.01);
      const after = gate.update(ok(), clock.nowNs());
      if (!requireAck) expect(after.resumed).toBe(true);
      else {
        expect(after.hold).toBe(true);
        expect(gate.state).toBe('awaiting_ack');
        expect(gate.ack()).toBe(true);
        expect(gate.update(ok(), clock.nowNs()).resumed).toBe(true);
      }
      expect(gate.stops).toBe(1);
      void step;
    }
  });
});

class FakeRobot implements Robot {
  readonly kind = 'sim';
  readonly address = 'fake';
  readonly events = new EventEmitter<RobotEvents>();
  readonly counters = newCounters();
  readonly clock = systemClock;
  readonly streams = ['proprio'];
  state: ConnectionState = 'connected';
  readonly sent: { t: number; action: ActionData; stop: boolean }[] = [];
  async start() {}
  async close() {}
  command(action: ActionData): boolean {
    if (this.state !== 'connected') return false;
    this.sent.push({ t: performance.now(), action, stop: false });
    return true;
  }
  safeStop(): boolean {
    if (this.state !== 'connected') return false;
    this.sent.push({ t: performance.now(), action: { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 }, stop: true });
    return true;
  }
  publishHealth() {}
  async callService<T>(): Promise<T> {
    throw new Error('none');
  }
  async drain() {}
}

function loopWith(controllerSpec: string, rateHz: number) {
  const robot = new FakeRobot();
  const stream = new Stream('proprio', { clock: systemClock, config: { stale_after_s: 0.5 } });
  let seq = 0;
  const feeder = setInterval(() => {
    const t = systemClock.nowNs();
    stream.push({ stream: 'proprio', t_capture_ns: t, t_receive_ns: t, seq: seq++, data: { names: ['a'], position: [0], velocity: [0], effort: [0], gripper_opening: 0, gripper_force: 0 } });
  }, 10);
  const cfg = parseConfig({ rate_hz: rateHz, health: { resume_after_s: 0.2 } });
  const monitor = new HealthMonitor({ streams: [{ stream, required: true, onWarn: 'mask' }], config: cfg.health, periodS: 1 / rateHz });
  const gate = new StopGate(cfg.health);
  const loop = new ControlLoop({
    robot,
    controller: ScriptedController.fromSpec(controllerSpec),
    sync: new Synchronizer([stream]),
    monitor,
    gate,
    safety: new SafetyFilter(cfg.safety),
    rateHz,
    checkHz: 100,
    maxActionAgeS: 2 / rateHz,
    clock: systemClock,
    proprioStream: 'proprio',
  });
  return { robot, loop, gate, monitor, stop: async () => (clearInterval(feeder), await loop.stop()) };
}

describe('control loop (fake robot)', () => {
  it('runs the policy once per tick after startup, with at most one command per tick', async () => {
    const { robot, loop, gate, stop } = loopWith('scripted:wave', 50);
    loop.start();
    await until(() => robot.sent.filter((s) => !s.stop).length > 10, 10_000, '10 commands');
    await stop();
    expect(gate.state).toBe('running');
    const moves = robot.sent.filter((s) => !s.stop);
    expect(moves.length).toBeLessThanOrEqual(loop.stats.ticks);
    expect(loop.stats.inflight_max).toBe(1);
    expect(robot.sent[0].stop).toBe(true); // held until healthy for resume_after_s
  });

  it('inference slower than inference_error_periods: overruns counted, ERROR, never moves, never overlapping', async () => {
    // 50 Hz (20 ms) with a 90 ms policy: the limit (three periods) is 60 ms.
    const { robot, loop, gate, monitor, stop } = loopWith('scripted:wave?delay_ms=90', 50);
    loop.start();
    await sleep(1500);
    const inference = monitor.evaluate(systemClock.nowNs()).components.find((c) => c.name === 'inference')!;
    await stop();
    expect(loop.stats.overruns).toBeGreaterThan(10);
    expect(loop.stats.inflight_max).toBe(1);
    expect(inference).toMatchObject({ level: 'ERROR', stop: true });
    expect(inference.message).toMatch(/last inference took \d+\.\d ms|no result for/);
    // Probe inferences ran while held, but nothing but stops reached the robot.
    expect(gate.state).toBe('starting');
    expect(loop.stats.dropped_stopped).toBeGreaterThan(5);
    expect(robot.sent.every((s) => s.stop)).toBe(true);
  });

  it('a policy that turns slow while running: safe stop for inference; resumes when fast again', async () => {
    const { robot, loop, gate, stop } = loopWith('scripted:wave', 50);
    const controller = (loop as unknown as { o: { controller: ScriptedController } }).o.controller;
    const stops: string[][] = [];
    let resumes = 0;
    loop.events.on('stop', (e) => stops.push(e.reasons));
    loop.events.on('resume', () => resumes++);
    loop.start();
    await until(() => gate.state === 'running', 5000, 'running');
    controller.params.delay_ms = 90;
    await until(() => stops.some((r) => r.includes('inference')), 5000, 'a stop for inference');
    expect(gate.state).toBe('stopped');
    const held = robot.sent.length;
    controller.params.delay_ms = 0;
    await until(() => gate.state === 'running', 5000, 'running again');
    await sleep(200);
    await stop();
    expect(resumes).toBe(2);
    expect(robot.sent.slice(held).some((s) => !s.stop)).toBe(true);
    expect(loop.stats.inflight_max).toBe(1);
  });
});

describe('scripted controller spec', () => {
  it('parses names and parameters and refuses unknown ones', () => {
    expect(parseScriptedSpec('scripted:wave?amplitude=0.1&camera=1&delay_ms=5')).toMatchObject({ name: 'wave', params: { amplitude: 0.1, camera: true, delay_ms: 5 } });
    expect(() => parseScriptedSpec('scripted:dance')).toThrow(/unknown scripted controller 'dance'/);
    expect(() => parseScriptedSpec('scripted:wave?speed=2')).toThrow(/unknown parameter 'speed'/);
    expect(() => parseScriptedSpec('scripted:wave?gripper=2')).toThrow(/gripper=2 must be in 0..1/);
  });
});

describe('senseact serve (CLI)', () => {
  it('a bad config exits 2 with one line naming the file and the field', () => {
    const file = path.join(tmp(), 'serve.yaml');
    fs.writeFileSync(file, 'health:\n  resume_after_s: -1\n');
    const r = senseact(['serve', '--policy', 'scripted:wave', '--robot', 'ws://127.0.0.1:9', '--http', '127.0.0.1:0', '--config', file]);
    expect(r.status).toBe(2);
    expect(meaningfulLines(r.stderr)).toEqual([`senseact: --config: ${file}: health.resume_after_s: Too small: expected number to be >=0`]);
  });
});

describe('deploy/', () => {
  it('the example config is valid and the systemd unit restarts on failure only, with the CLI flags', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const c = loadConfig(path.join(root, 'deploy/serve.example.yaml'));
    expect(c).toEqual(parseConfig({ streams: { proprio: { topic: '/joint_states' } } }));
    const unit = fs.readFileSync(path.join(root, 'deploy/senseact.service'), 'utf8');
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1].split(/\s+/);
    expect(exec.slice(2, 3)).toEqual(['serve']);
    for (const flag of ['--policy', '--robot', '--http', '--config']) expect(exec).toContain(flag);
  });
});
