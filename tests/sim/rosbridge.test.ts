// The sim behind its rosbridge v2 server, driven by the real roslib 2.1
// client (and a raw WebSocket for what roslib does not send).
import * as ROSLIB from 'roslib';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimEnv } from '../../sim/index.ts';
import { createNodeCamera } from '../../sim/camera-node.ts';
import { RosbridgeServer, type Logger } from '../../sim/rosbridge/server.ts';
import { testGpu } from '../helpers/gpu.ts';

const gpu = await testGpu();
gpu?.release();

const warnings: string[] = [];
const logger: Logger = { info: () => {}, warn: (_o, msg) => void warnings.push(msg) };
let server: RosbridgeServer;
let env: SimEnv;
let ros: ROSLIB.Ros;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const camera = gpu ? await createNodeCamera({ scene: true }) : null;
  env = new SimEnv({ task: 'pick-place', camera });
  server = await RosbridgeServer.start({ env, host: '127.0.0.1', port: 0, seed: 1, logger });
  ros = new ROSLIB.Ros({ url: server.address });
  await new Promise<void>((resolve, reject) => {
    ros.on('connection', () => resolve());
    ros.on('error', (e) => reject(new Error(String(e))));
  });
});

afterAll(async () => {
  ros?.close();
  await server?.close();
  env?.close();
});

function topic<T>(name: string, messageType: string, extra: Record<string, number> = {}) {
  return new ROSLIB.Topic<T>({ ros, name, messageType, ...extra });
}

function call<T>(name: string, serviceType: string, req: unknown): Promise<T> {
  const s = new ROSLIB.Service<unknown, T>({ ros, name, serviceType });
  return new Promise((resolve, reject) => s.callService(req, resolve, (e) => reject(new Error(e)), 5));
}

interface JointState {
  header: { stamp: { sec: number; nanosec: number } };
  name: string[];
  position: number[];
}

describe('sim serve over rosbridge (roslib 2.1)', () => {
  it('streams camera, tactile, smell and joint states at their native rates (±20 %)', async () => {
    const counts: Record<string, number> = {};
    const first: Record<string, unknown> = {};
    const subs = [
      ['/joint_states', 'sensor_msgs/JointState'],
      ['/tactile/left', 'std_msgs/Float32MultiArray'],
      ['/tactile/right', 'std_msgs/Float32MultiArray'],
      ['/e_nose/raw', 'std_msgs/Float32MultiArray'],
      ...(gpu
        ? [
            ['/camera/color/image_raw/compressed', 'sensor_msgs/CompressedImage'],
            ['/scene_camera/color/image_raw/compressed', 'sensor_msgs/CompressedImage'],
          ]
        : []),
    ].map(([name, type]) => {
      const t = topic<unknown>(name, type);
      counts[name] = 0;
      t.subscribe((m) => {
        counts[name]++;
        first[name] ??= m;
      });
      return t;
    });
    await sleep(1000); // settle
    for (const k of Object.keys(counts)) counts[k] = 0;
    const window = 4;
    await sleep(window * 1000);
    const snapshot = { ...counts };
    for (const t of subs) t.unsubscribe();
    const rate = (n: string) => snapshot[n] / window;
    expect(rate('/joint_states')).toBeGreaterThan(80);
    expect(rate('/joint_states')).toBeLessThan(120);
    expect(rate('/tactile/left')).toBeGreaterThan(80);
    expect(rate('/tactile/right')).toBeLessThan(120);
    expect(rate('/e_nose/raw')).toBeGreaterThanOrEqual(1.5);
    expect(rate('/e_nose/raw')).toBeLessThanOrEqual(2.5);
    const js = first['/joint_states'] as JointState;
    expect(js.name).toContain('lift');
    expect(js.header.stamp).toHaveProperty('nanosec');
    const tactile = first['/tactile/left'] as { layout: { dim: { label: string; size: number }[] }; data: number[] };
    expect(tactile.layout.dim.map((d) => d.size)).toEqual([4, 4, 3]);
    expect(tactile.data).toHaveLength(48);
    if (gpu) {
      expect(rate('/camera/color/image_raw/compressed')).toBeGreaterThan(24);
      expect(rate('/camera/color/image_raw/compressed')).toBeLessThan(36);
      const img = first['/camera/color/image_raw/compressed'] as { format: string; data: string };
      expect(img.format).toBe('png');
      // uint8[] travels as base64: a PNG signature once decoded.
      expect(Buffer.from(img.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
      // The fixed scene camera beside it, at the same rate, with its own frame id.
      expect(rate('/scene_camera/color/image_raw/compressed')).toBeGreaterThan(24);
      expect(rate('/scene_camera/color/image_raw/compressed')).toBeLessThan(36);
      const scene = first['/scene_camera/color/image_raw/compressed'] as { header: { frame_id: string }; format: string; data: string };
      expect(scene.header.frame_id).toBe('scene_camera');
      expect(Buffer.from(scene.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('moves the end effector on a published twist, and the watchdog stops it', async () => {
    let lift = NaN;
    const js = topic<JointState>('/joint_states', 'sensor_msgs/JointState');
    js.subscribe((m) => (lift = m.position[m.name.indexOf('lift')]));
    await sleep(300);
    const before = lift;
    const cmd = topic<unknown>('/senseact/cmd_twist', 'geometry_msgs/TwistStamped');
    for (let i = 0; i < 20; i++) {
      // ROS 1 style stamps are accepted as well as ROS 2.
      cmd.publish({ header: { stamp: i % 2 ? { secs: 1, nsecs: 0 } : { sec: 1, nanosec: 0 }, frame_id: 'base_link' }, twist: { linear: { x: 0, y: 0, z: -0.1 }, angular: { x: 0, y: 0, z: 0 } } });
      await sleep(50);
    }
    await sleep(100);
    const during = lift;
    expect(before - during).toBeGreaterThan(0.05);
    await sleep(1000); // no commands: the watchdog has zeroed the twist
    const a = lift;
    await sleep(500);
    expect(Math.abs(lift - a)).toBeLessThan(0.002);
    js.unsubscribe();
  });

  it('resets with a seed and reports task status; a bad reset fails with result false', async () => {
    const r = await call<{ success: boolean; message: string }>('/senseact/reset', 'senseact_msgs/Reset', { seed: 42 });
    expect(r.success).toBe(true);
    const status = await call<{ task: string; step: number; success: boolean; done: boolean }>('/senseact/task_status', 'senseact_msgs/TaskStatus', {});
    expect(status.task).toBe('pick-place');
    expect(status.step).toBeLessThan(40);
    expect(env.seed).toBe(42);
    await expect(call('/senseact/reset', 'senseact_msgs/Reset', { seed: -3 })).rejects.toThrow(/seed/);
    await expect(call('/no/such/service', 'std_srvs/Trigger', {})).rejects.toThrow(/does not exist/);
  });

  it('honours throttle_rate (roslib) and fragment_size (raw client)', async () => {
    let n = 0;
    const t = topic<unknown>('/tactile/left', 'std_msgs/Float32MultiArray', { throttle_rate: 100, queue_length: 1 });
    t.subscribe(() => n++);
    await sleep(2000);
    t.unsubscribe();
    expect(n).toBeGreaterThan(14);
    expect(n).toBeLessThan(24);

    // roslib does not send fragment_size; a raw client does, and gets fragments that join into the message.
    const ws = new WebSocket(server.address);
    await new Promise((r) => ws.once('open', r));
    const fragments: { id: string; data: string; num: number; total: number }[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.op === 'fragment') fragments.push(m);
    });
    ws.send(JSON.stringify({ op: 'subscribe', id: 'frag', topic: '/joint_states', type: 'sensor_msgs/JointState', fragment_size: 100 }));
    await sleep(300);
    ws.close();
    const id = fragments[0].id;
    const set = fragments.filter((f) => f.id === id).sort((a, b) => a.num - b.num);
    expect(set.length).toBe(set[0].total);
    const whole = JSON.parse(set.map((f) => f.data).join(''));
    expect(whole).toMatchObject({ op: 'publish', topic: '/joint_states' });
    expect(whole.msg.name).toContain('arm');
  });

  it('logs malformed and unknown ops server-side and keeps serving', async () => {
    const ws = new WebSocket(server.address);
    await new Promise((r) => ws.once('open', r));
    const before = warnings.length;
    ws.send('this is not json');
    ws.send(JSON.stringify({ op: 'frobnicate', topic: '/x' }));
    ws.send(JSON.stringify({ op: 'subscribe' }));
    ws.send(JSON.stringify({ op: 'publish', topic: '/senseact/cmd_twist', msg: { twist: { linear: { x: 'fast' } } } }));
    ws.send(JSON.stringify({ op: 'publish', topic: '/senseact/gripper', msg: { data: null } }));
    ws.send(JSON.stringify({ op: 'fragment', id: 'f', data: '{"op":', num: 0, total: 2 }));
    ws.send(JSON.stringify({ op: 'fragment', id: 'f', data: '"nope"}', num: 1, total: 2 }));
    ws.send(JSON.stringify([1, 2, 3]));
    await sleep(300);
    ws.close();
    expect(warnings.length - before).toBeGreaterThanOrEqual(7);
    // Still alive: the roslib connection keeps receiving.
    let got = 0;
    const t = topic<unknown>('/joint_states', 'sensor_msgs/JointState');
    t.subscribe(() => got++);
    await sleep(300);
    t.unsubscribe();
    expect(got).toBeGreaterThan(10);
    expect(ros.isConnected).toBe(true);
  });

  it('binds loopback by default', () => {
    expect(server.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('rosbridge message size bound', () => {
  it('closes a connection that sends an oversized frame and keeps serving others', async () => {
    const small = new SimEnv({ task: 'gentle-grasp' });
    const srv = await RosbridgeServer.start({ env: small, host: '127.0.0.1', port: 0, maxMessageBytes: 2048, logger });
    try {
      const big = new WebSocket(srv.address);
      await new Promise((r) => big.once('open', r));
      const closed = new Promise<number>((r) => big.once('close', (code) => r(code)));
      big.send(JSON.stringify({ op: 'publish', topic: '/chatter', msg: { data: 'x'.repeat(10_000) } }));
      expect(await closed).toBe(1009); // "message too big"
      // Oversized fragment sets are dropped too, without closing the socket.
      const ok = new WebSocket(srv.address);
      await new Promise((r) => ok.once('open', r));
      const before = warnings.length;
      for (let i = 0; i < 3; i++) ok.send(JSON.stringify({ op: 'fragment', id: 'big', data: 'y'.repeat(1000), num: i, total: 10 }));
      let got = 0;
      ok.on('message', () => got++);
      ok.send(JSON.stringify({ op: 'subscribe', id: 's', topic: '/joint_states' }));
      await sleep(300);
      expect(warnings.slice(before)).toContain('fragmented message exceeds the size limit; dropped');
      expect(got).toBeGreaterThan(5);
      ok.close();
    } finally {
      await srv.close();
      small.close();
    }
  });
});
