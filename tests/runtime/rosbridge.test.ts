// RosbridgeRobot (the real roslib 2.1 client inside) against a bare rosbridge
// v2 endpoint that records every op: what goes on the wire first, what never
// goes on the wire, and service-call timeouts.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../runtime/config.ts';
import { RosbridgeRobot } from '../../runtime/rosbridgeRobot.ts';
import { sleep, until } from './procs.ts';

interface Op {
  op: string;
  topic?: string;
  service?: string;
  id?: string;
  msg?: { twist?: { linear: { x: number } }; data?: number };
}

class Endpoint {
  readonly ops: Op[][] = []; // per connection
  readonly sockets: WebSocket[] = [];
  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws) => {
      const mine: Op[] = [];
      this.ops.push(mine);
      this.sockets.push(ws);
      ws.on('message', (d) => mine.push(JSON.parse(d.toString())));
    });
  }
  static async start(port = 0): Promise<Endpoint> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise((r) => wss.once('listening', r));
    return new Endpoint(wss);
  }
  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    await new Promise((r) => this.wss.close(r));
  }
}

const open: (Endpoint | RosbridgeRobot)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

function robot(port: number, over: object = {}) {
  const config = parseConfig({ robot: { reconnect: { initial_s: 0.05, max_s: 0.2, connect_timeout_s: 1 }, service_timeout_s: 0.3, ...over } });
  const r = new RosbridgeRobot({ url: `ws://127.0.0.1:${port}`, config: config.robot, streams: { proprio: config.streams.proprio, 'tactile/left': config.streams['tactile/left'] }, random: () => 0.5 });
  open.push(r);
  return r;
}

const twist = (x: number) => ({ linear: [x, 0, 0] as [number, number, number], angular: [0, 0, 0] as [number, number, number], gripper: 0.4 });

describe('RosbridgeRobot on the wire', () => {
  it('sends a stop before anything else, subscribes, and never queues motion while the link is down', async () => {
    const ep = await Endpoint.start();
    open.push(ep);
    const r = robot(ep.port);
    await r.start();
    expect(r.state).toBe('connected');
    expect(r.command(twist(0.1))).toBe(true);
    await until(() => ep.ops[0]?.some((o) => o.op === 'publish' && o.msg?.twist?.linear.x === 0.1), 2000, 'the command');
    const first = ep.ops[0];
    const motion = first.filter((o) => o.op === 'publish');
    expect(motion[0]).toMatchObject({ topic: '/senseact/cmd_twist', msg: { twist: { linear: { x: 0 } } } });
    // The stop goes out before the subscriptions.
    expect(first.findIndex((o) => o.op === 'publish')).toBeLessThan(first.findIndex((o) => o.op === 'subscribe'));
    expect(first.filter((o) => o.op === 'subscribe').map((o) => o.topic).sort()).toEqual(['/joint_states', '/senseact/estop', '/tactile/left']);

    // The server drops the connection; commands while down are refused, not queued.
    const port = ep.port;
    await ep.close();
    open.splice(open.indexOf(ep), 1);
    await until(() => r.state !== 'connected', 2000, 'the drop to be seen');
    for (let i = 0; i < 5; i++) expect(r.command(twist(0.2 + i))).toBe(false);
    expect(r.counters.motion_suppressed).toBe(5);
    await expect(r.callService('/senseact/reset', 'senseact_msgs/Reset', { seed: 1 })).rejects.toThrow(/not connected/);
    await sleep(300); // a few failed attempts with backoff

    const back = await Endpoint.start(port);
    open.push(back);
    await until(() => r.state === 'connected', 5000, 'the reconnect');
    expect(r.counters.reconnects).toBe(1);
    await sleep(200);
    const again = back.ops[0];
    const pubs = again.filter((o) => o.op === 'publish');
    // First a stop (gripper held at 0.4); nothing from the time the link was down.
    expect(pubs[0]).toMatchObject({ topic: '/senseact/cmd_twist', msg: { twist: { linear: { x: 0 } } } });
    expect(pubs[1]).toMatchObject({ topic: '/senseact/gripper', msg: { data: 0.4 } });
    expect(pubs.some((o) => (o.msg?.twist?.linear.x ?? 0) >= 0.2)).toBe(false);
    expect(again.filter((o) => o.op === 'subscribe')).toHaveLength(3);
    expect(back.ops).toHaveLength(1);
  });

  it('service calls time out on our clock, and fail when the connection drops under them', async () => {
    const ep = await Endpoint.start();
    open.push(ep);
    const r = robot(ep.port);
    await r.start();
    const t0 = performance.now();
    await expect(r.callService('/senseact/task_status', 'senseact_msgs/TaskStatus', {})).rejects.toThrow(/no answer within 0.3 s/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    const pending = r.callService('/senseact/reset', 'senseact_msgs/Reset', { seed: 2 }, 5);
    await until(() => ep.ops[0].some((o) => o.op === 'call_service' && o.service === '/senseact/reset'), 2000, 'the call on the wire');
    for (const s of ep.sockets) s.terminate();
    await expect(pending).rejects.toThrow(/connection lost/);
  });
});
