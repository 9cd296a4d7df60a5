// A rosbridge v2 protocol server in front of the live simulator, so that any
// roslib client (the runtime, Foxglove, a test) cannot tell the sim from a
// robot behind a real rosbridge_server. Like the real server it never
// answers bad input with an error message: it logs it and carries on; only
// a failed call_service returns `result: false`.
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { LiveSim } from '../live.ts';
import type { SimEnv } from '../env.ts';
import type { Sample } from '../samples.ts';
import { Op } from './protocol.ts';
import { Float32Msg, PUBLISHED, ResetArgs, SERVICES, TOPICS, TwistMsg, toRos, topicOf, type RosVersion } from './messages.ts';
import { FAULT_SERVICE, FaultInjector } from './faults.ts';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RosbridgeServerOptions {
  env: SimEnv;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  seed?: number;
  /** Stamp style of outgoing headers (incoming are accepted in either). */
  rosVersion?: RosVersion;
  /** Largest incoming message (or reassembled fragment set), bytes. */
  maxMessageBytes?: number;
  logger?: Logger;
  /** Test-only fault injection service (sim serve --faults; see faults.ts). */
  faults?: boolean;
}

interface Subscription {
  id: string | undefined;
  throttleMs: number;
  queueLength: number;
  fragmentSize: number | null;
  lastSentMs: number;
  queue: string[];
  timer: NodeJS.Timeout | null;
}

interface Client {
  ws: WebSocket;
  n: number;
  subs: Map<string, Subscription[]>;
  advertised: Map<string, string>;
  fragments: Map<string, { parts: string[]; received: number; total: number; bytes: number }>;
}

const MAX_FRAGMENT_SETS = 32;

export class RosbridgeServer {
  readonly live: LiveSim;
  private wss!: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly providers = new Map<string, Client>();
  private readonly pendingCalls = new Map<string, { caller: Client; service: string }>();
  private readonly log: Logger;
  private readonly version: RosVersion;
  private readonly maxBytes: number;
  private nextClient = 0;
  private nextFragment = 0;
  private readonly faults: FaultInjector | null;

  private constructor(private readonly opts: RosbridgeServerOptions) {
    this.live = new LiveSim(opts.env);
    this.version = opts.rosVersion ?? 2;
    this.maxBytes = opts.maxMessageBytes ?? 16 * 1024 * 1024;
    this.log = opts.logger ?? { info: () => {}, warn: () => {} };
    this.faults = opts.faults ? new FaultInjector() : null;
  }

  static async start(opts: RosbridgeServerOptions): Promise<RosbridgeServer> {
    const server = new RosbridgeServer(opts);
    await server.live.start(opts.seed ?? 0);
    server.live.onSample = (s) => server.publishSample(s);
    server.live.onError = (err) => server.log.warn({ err: err.message }, 'simulation step failed');
    await new Promise<void>((resolve, reject) => {
      server.wss = new WebSocketServer({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 9090, maxPayload: server.maxBytes });
      server.wss.once('listening', resolve);
      server.wss.once('error', reject);
    });
    server.wss.on('error', (err) => server.log.warn({ err: err.message }, 'websocket server error'));
    server.wss.on('connection', (ws) => server.accept(ws));
    return server;
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get address(): string {
    const a = this.wss.address() as AddressInfo;
    return `ws://${a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    await this.live.stop();
    for (const c of this.clients) {
      this.dropSubs(c);
      c.ws.terminate();
    }
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    const client: Client = { ws, n: this.nextClient++, subs: new Map(), advertised: new Map(), fragments: new Map() };
    this.clients.add(client);
    this.log.info({ client: client.n }, 'client connected');
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) return this.log.warn({ client: client.n }, 'binary frames are not supported; ignored');
        this.handleText(client, data.toString());
      } catch (err) {
        this.log.warn({ client: client.n, err: (err as Error).message }, 'failed to handle a message');
      }
    });
    ws.on('error', (err) => this.log.warn({ client: client.n, err: err.message }, 'client socket error'));
    ws.on('close', () => {
      this.dropSubs(client);
      this.clients.delete(client);
      for (const [name, p] of this.providers) if (p === client) this.providers.delete(name);
      this.log.info({ client: client.n }, 'client disconnected');
    });
  }

  private dropSubs(c: Client): void {
    for (const subs of c.subs.values()) for (const s of subs) if (s.timer) clearTimeout(s.timer);
    c.subs.clear();
  }

  private handleText(client: Client, text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.log.warn({ client: client.n, bytes: text.length }, 'message is not JSON; ignored');
    }
    const parsed = Op.safeParse(raw);
    if (!parsed.success) {
      const opName = typeof raw === 'object' && raw && 'op' in raw ? String((raw as { op: unknown }).op).slice(0, 64) : '(none)';
      const issue = parsed.error.issues[0];
      return this.log.warn({ client: client.n, op: opName, path: issue?.path, reason: issue?.message }, 'invalid or unknown op; ignored');
    }
    const m = parsed.data;
    switch (m.op) {
      case 'advertise':
        client.advertised.set(m.topic, m.type);
        return;
      case 'unadvertise':
        client.advertised.delete(m.topic);
        return;
      case 'publish':
        return this.onPublish(client, m.topic, m.msg);
      case 'subscribe': {
        if (m.compression && m.compression !== 'none') this.log.warn({ client: client.n, compression: m.compression }, 'compression not supported; sending uncompressed JSON');
        if (m.type && PUBLISHED[m.topic] && m.type !== PUBLISHED[m.topic] && m.type.replace('/msg/', '/') !== PUBLISHED[m.topic]) {
          this.log.warn({ client: client.n, topic: m.topic, type: m.type, expected: PUBLISHED[m.topic] }, 'subscribe type does not match the topic');
        }
        const list = client.subs.get(m.topic) ?? [];
        list.push({
          id: m.id,
          throttleMs: m.throttle_rate ?? 0,
          queueLength: m.queue_length ?? 0,
          fragmentSize: m.fragment_size ?? null,
          lastSentMs: -Infinity,
          queue: [],
          timer: null,
        });
        client.subs.set(m.topic, list);
        return;
      }
      case 'unsubscribe': {
        const list = client.subs.get(m.topic);
        if (!list) return;
        const keep = m.id === undefined ? [] : list.filter((s) => s.id !== m.id);
        for (const s of list) if (!keep.includes(s) && s.timer) clearTimeout(s.timer);
        if (keep.length) client.subs.set(m.topic, keep);
        else client.subs.delete(m.topic);
        return;
      }
      case 'call_service':
        void this.onCall(client, m.id, m.service, m.args);
        return;
      case 'service_response': {
        const pending = m.id ? this.pendingCalls.get(m.id) : undefined;
        if (!pending) return this.log.warn({ client: client.n, id: m.id }, 'service_response for no pending call; ignored');
        this.pendingCalls.delete(m.id!);
        this.send(pending.caller, JSON.stringify({ op: 'service_response', id: m.id, service: m.service, values: m.values ?? {}, result: m.result }));
        return;
      }
      case 'advertise_service':
        if (m.service === SERVICES.reset || m.service === SERVICES.status) return this.log.warn({ client: client.n, service: m.service }, 'service is provided by the simulator; ignored');
        this.providers.set(m.service, client);
        return;
      case 'unadvertise_service':
        if (this.providers.get(m.service) === client) this.providers.delete(m.service);
        return;
      case 'fragment':
        return this.onFragment(client, m.id, m.data, m.num, m.total);
    }
  }

  private onFragment(client: Client, id: string, data: string, num: number, total: number): void {
    let set = client.fragments.get(id);
    if (!set) {
      if (client.fragments.size >= MAX_FRAGMENT_SETS) {
        // Drop the oldest unfinished set rather than growing without bound.
        const oldest = client.fragments.keys().next().value!;
        client.fragments.delete(oldest);
        this.log.warn({ client: client.n, id: oldest }, 'too many unfinished fragment sets; dropped the oldest');
      }
      set = { parts: new Array(total), received: 0, total, bytes: 0 };
      client.fragments.set(id, set);
    }
    if (set.total !== total || num >= total) return this.log.warn({ client: client.n, id, num, total }, 'inconsistent fragment; ignored');
    if (set.parts[num] !== undefined) return;
    set.bytes += data.length;
    if (set.bytes > this.maxBytes) {
      client.fragments.delete(id);
      return this.log.warn({ client: client.n, id, bytes: set.bytes }, 'fragmented message exceeds the size limit; dropped');
    }
    set.parts[num] = data;
    set.received++;
    if (set.received === set.total) {
      client.fragments.delete(id);
      this.handleText(client, set.parts.join(''));
    }
  }

  private onPublish(client: Client, topic: string, msg: unknown): void {
    if (topic === TOPICS.twist) {
      const r = TwistMsg.safeParse(msg);
      if (!r.success) return this.log.warn({ client: client.n, topic, path: r.error.issues[0]?.path, reason: r.error.issues[0]?.message }, 'bad twist; ignored');
      const { linear, angular } = r.data.twist;
      this.live.setTwist([linear.x, linear.y, linear.z], [angular.x, angular.y, angular.z]);
      this.faults?.noteCommand(topic, r.data, client.n);
      return;
    }
    if (topic === TOPICS.gripper) {
      const r = Float32Msg.safeParse(msg);
      if (!r.success) return this.log.warn({ client: client.n, topic, reason: r.error.issues[0]?.message }, 'bad gripper command; ignored');
      this.live.setGripper(Math.min(1, Math.max(0, r.data.data)));
      this.faults?.noteCommand(topic, r.data, client.n);
      return;
    }
    if (PUBLISHED[topic]) return this.log.warn({ client: client.n, topic }, 'clients may not publish on a simulator sensor topic; ignored');
    // Anything else is relayed to other subscribers, as rosbridge would through ROS.
    this.fanOut(topic, { op: 'publish', topic, msg });
  }

  private async onCall(client: Client, id: string | undefined, service: string, args: unknown): Promise<void> {
    const respond = (result: boolean, values: unknown) => this.send(client, JSON.stringify({ op: 'service_response', id, service, values, result }));
    try {
      if (service === SERVICES.reset) {
        const r = ResetArgs.safeParse(args ?? {});
        if (!r.success) {
          this.log.warn({ client: client.n, service, reason: r.error.issues[0]?.message }, 'bad reset request');
          return respond(false, `invalid request: ${r.error.issues[0]?.path.join('.') || 'args'}: ${r.error.issues[0]?.message}`);
        }
        await this.live.reset(r.data.seed);
        return respond(true, { success: true, message: `reset ${this.live.env.taskName} with seed ${r.data.seed}` });
      }
      if (this.faults && service === FAULT_SERVICE) {
        const r = this.faults.call(args);
        this.log.warn({ client: client.n, args }, 'fault injection');
        return respond(r.ok, r.ok ? { success: true, message: r.message } : r.message);
      }
      if (service === SERVICES.status) {
        const env = this.live.env;
        return respond(true, { task: env.taskName, step: env.tick, success: env.success(), done: env.done() });
      }
      const provider = this.providers.get(service);
      if (provider && id) {
        this.pendingCalls.set(id, { caller: client, service });
        this.send(provider, JSON.stringify({ op: 'call_service', id, service, args: args ?? {} }));
        return;
      }
      this.log.warn({ client: client.n, service }, 'call to an unknown service');
      return respond(false, `service ${service} does not exist`);
    } catch (err) {
      this.log.warn({ client: client.n, service, err: (err as Error).message }, 'service call failed');
      return respond(false, (err as Error).message);
    }
  }

  private publishSample(sample: Sample): void {
    const topic = topicOf(sample.stream);
    if (!topic) return;
    let wanted = false;
    for (const c of this.clients) if (c.subs.has(topic)) wanted = true;
    if (!wanted) return; // no one listens: skip encoding (the camera's PNG is the costly one)
    let msg: Record<string, unknown> | string | null = toRos(sample, this.live.epochAtStartNs, this.version);
    if (msg && this.faults) msg = this.faults.apply(topic, msg);
    if (typeof msg === 'string') this.fanOut(topic, {}, msg);
    else if (msg) this.fanOut(topic, { op: 'publish', topic, msg });
  }

  private fanOut(topic: string, message: object, raw: string | null = null): void {
    let text: string | null = raw;
    for (const c of this.clients) {
      const subs = c.subs.get(topic);
      if (!subs) continue;
      text ??= JSON.stringify(message);
      for (const s of subs) this.deliver(c, s, text);
    }
  }

  /** Applies throttle_rate and queue_length, then fragment_size. */
  private deliver(c: Client, s: Subscription, text: string): void {
    const now = performance.now();
    if (s.throttleMs <= 0 || now - s.lastSentMs >= s.throttleMs) {
      s.lastSentMs = now;
      return this.sendMaybeFragmented(c, s, text);
    }
    s.queue.push(text);
    // queue_length bounds what waits for the throttle; rosbridge treats 0 as 1 (latest wins).
    const cap = Math.max(1, s.queueLength);
    while (s.queue.length > cap) s.queue.shift();
    if (!s.timer) {
      s.timer = setTimeout(() => {
        s.timer = null;
        const next = s.queue.shift();
        if (next === undefined) return;
        s.lastSentMs = performance.now();
        this.sendMaybeFragmented(c, s, next);
        if (s.queue.length) this.deliver(c, s, s.queue.shift()!);
      }, s.throttleMs - (now - s.lastSentMs));
    }
  }

  private sendMaybeFragmented(c: Client, s: Subscription, text: string): void {
    const size = s.fragmentSize;
    if (!size || text.length <= size) return this.send(c, text);
    const total = Math.ceil(text.length / size);
    const id = `fragment:${this.nextFragment++}`;
    for (let i = 0; i < total; i++) this.send(c, JSON.stringify({ op: 'fragment', id, data: text.slice(i * size, (i + 1) * size), num: i, total }));
  }

  private send(c: Client, text: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    // A slow client must not make the server hoard memory: drop when its socket buffer is deep.
    if (c.ws.bufferedAmount > 64 * 1024 * 1024) return this.log.warn({ client: c.n }, 'client is not reading; message dropped');
    c.ws.send(text);
  }
}
