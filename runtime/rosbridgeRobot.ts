// A robot (or `senseact sim serve`) behind a rosbridge v2 server, through
// roslib 2.x. roslib does not reconnect, and it queues whatever is published
// while disconnected and sends it in a burst on reconnect (PLATFORM.md). So:
//
// - every connection attempt gets a fresh ROSLIB.Ros; a dropped connection's
//   Ros is discarded with anything roslib had queued on it, so no stale
//   command can ever be replayed;
// - motion is published only while the connection is open; otherwise the
//   command is refused (and counted), never queued;
// - the first thing sent on every connection is a stop (zero twist, gripper
//   held), before any subscription or command;
// - reconnects use capped exponential backoff with jitter; topics are
//   subscribed again on each new connection;
// - service calls have our own timeout, fail at once while disconnected, and
//   fail when the connection drops under them (a late answer would be stale).
import { EventEmitter } from 'node:events';
import * as ROSLIB from 'roslib';
import { systemClock, type ActionData, type Clock } from '../sensors/index.ts';
import { ClockTracker } from './clockTracker.ts';
import type { RobotConfig, StreamEntry } from './config.ts';
import { newCounters, stopAction, type ConnectionState, type DiagnosticStatus, type Robot, type RobotEvents } from './robot.ts';
import { CONVERTERS, makeStamp, normalForce, twistMessage, type RosVersion } from './rosMessages.ts';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

const quiet: Logger = { info: () => {}, warn: () => {} };

export interface RosbridgeRobotOptions {
  url: string;
  config: RobotConfig;
  /** The input streams to subscribe, by stream name. */
  streams: Record<string, Pick<StreamEntry, 'topic' | 'type' | 'timestamps'>>;
  clock?: Clock;
  /** Uniform [0, 1) random source for the backoff jitter (injected for tests). */
  random?: () => number;
  logger?: Logger;
}

/** Delay before reconnect attempt `attempt` (0-based): capped exponential, part of it randomized away. */
export function backoffDelayS(attempt: number, r: RobotConfig['reconnect'], random: () => number): number {
  const capped = Math.min(r.max_s, r.initial_s * Math.pow(r.multiplier, attempt));
  return capped * (1 - r.jitter * random());
}

interface Pending {
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Outputs {
  twist: ROSLIB.Topic<unknown>;
  gripper: ROSLIB.Topic<unknown>;
  health: ROSLIB.Topic<unknown>;
}

export class RosbridgeRobot implements Robot {
  readonly kind = 'rosbridge';
  readonly events = new EventEmitter<RobotEvents>();
  readonly counters = newCounters();
  readonly clock: Clock;
  readonly streams: readonly string[];
  private _state: ConnectionState = 'disconnected';
  private ros: ROSLIB.Ros | null = null;
  private outputs: Outputs | null = null;
  private inputs: ROSLIB.Topic<unknown>[] = [];
  private generation = 0;
  private attempt = 0;
  private everConnected = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private lastGripper: number | null = null;
  private version: RosVersion;
  private readonly pending = new Map<number, Pending>();
  private nextCall = 0;
  private readonly firstSeenNs: Record<string, number> = {};
  private readonly seqs: Record<string, number> = {};
  private readonly padForce = new Map<string, number>();
  private readonly trackers = new Map<string, ClockTracker>();
  private readonly random: () => number;
  private readonly log: Logger;
  /** When the current connection opened / the link last dropped (clock ns). */
  connectedSinceNs: number | null = null;
  disconnectedSinceNs: number | null = null;

  constructor(private readonly opts: RosbridgeRobotOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? quiet;
    this.streams = Object.keys(opts.streams);
    this.version = opts.config.ros_version === 'auto' ? 2 : opts.config.ros_version;
    for (const s of Object.values(opts.streams)) this.counters.messages[s.topic] = 0;
  }

  get address(): string {
    return this.opts.url;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Starts connecting; resolves after the first attempt settles (open or failed). Reconnects forever after. */
  async start(): Promise<void> {
    this.closed = false;
    await new Promise<void>((resolve) => {
      const done = (s: ConnectionState) => {
        if (s === 'connected' || s === 'disconnected' || s === 'closed') {
          this.events.off('connection', done);
          resolve();
        }
      };
      this.events.on('connection', done);
      this.connect();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this._state === 'connected') {
      this.safeStop();
      await this.drain(500);
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.teardown('closed by us');
    this.setState('closed');
  }

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    this.events.emit('connection', s);
  }

  private connect(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    const ros = new ROSLIB.Ros({});
    this.ros = ros;
    this.setState('connecting');
    ros.on('connection', () => {
      if (gen === this.generation) this.onOpen(ros);
    });
    ros.on('close', () => {
      if (gen === this.generation) this.onDrop('connection closed');
    });
    ros.on('error', (e: unknown) => {
      if (gen !== this.generation) return;
      if (e instanceof Error) {
        // roslib could not decode a frame (not JSON, not a rosbridge op, bad fragments): the frame is lost.
        this.counters.malformed_frames++;
        this.events.emit('malformed', { topic: null, reason: e.message.slice(0, 200) });
        return;
      }
      // A socket error; 'close' follows and drives the reconnect.
    });
    const timeoutMs = this.opts.config.reconnect.connect_timeout_s * 1000;
    this.connectTimer = setTimeout(() => {
      if (gen === this.generation && this._state === 'connecting') this.onDrop(`no connection within ${timeoutMs} ms`);
    }, timeoutMs);
    ros.connect(this.opts.url).catch((err: Error) => {
      if (gen === this.generation) this.onDrop(`connect failed: ${err.message}`);
    });
  }

  private onOpen(ros: ROSLIB.Ros): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const cfg = this.opts.config;
    const topic = (name: string, messageType: string) => new ROSLIB.Topic<unknown>({ ros, name, messageType, reconnect_on_close: false, queue_size: 1 });
    this.outputs = {
      twist: topic(cfg.outputs.cmd_twist, cfg.outputs.twist_type),
      gripper: topic(cfg.outputs.gripper, 'std_msgs/Float32'),
      health: topic(cfg.outputs.health, 'diagnostic_msgs/DiagnosticArray'),
    };
    if (this.everConnected) this.counters.reconnects++;
    this.everConnected = true;
    this.attempt = 0;
    // A new connection may be a new peer (a restarted server): its clock is learnt afresh.
    this.trackers.clear();
    this.connectedSinceNs = this.clock.nowNs();
    this.disconnectedSinceNs = null;
    this._state = 'connected';
    // A stop goes out before anything else on every connection.
    this.publishMotion(stopAction(this.lastGripper ?? 0), this.lastGripper !== null);
    this.counters.stops_sent++;
    this.counters.commands_sent++;
    for (const [stream, entry] of Object.entries(this.opts.streams)) {
      const t = new ROSLIB.Topic<unknown>({ ros, name: entry.topic, messageType: entry.type, reconnect_on_close: false });
      t.subscribe((msg) => this.onMessage(stream, entry, msg));
      this.inputs.push(t);
    }
    if (cfg.estop_topic) {
      const t = new ROSLIB.Topic<unknown>({ ros, name: cfg.estop_topic, messageType: 'std_msgs/Bool', reconnect_on_close: false });
      t.subscribe((msg) => {
        const d = (msg as { data?: unknown } | null)?.data;
        if (typeof d === 'boolean') this.events.emit('estop', d);
        else this.events.emit('malformed', { topic: cfg.estop_topic, reason: 'e-stop message without a boolean data field' });
      });
      this.inputs.push(t);
    }
    this.log.info({ url: this.opts.url, reconnects: this.counters.reconnects }, 'connected; stop sent first');
    this.events.emit('connection', 'connected');
  }

  private onDrop(reason: string): void {
    if (this.closed) return;
    const was = this._state;
    this.teardown(reason);
    if (was === 'connected') {
      this.disconnectedSinceNs = this.clock.nowNs();
      this.log.warn({ url: this.opts.url, reason }, 'disconnected');
    }
    this.setState('disconnected');
    const delay = backoffDelayS(this.attempt++, this.opts.config.reconnect, this.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay * 1000);
  }

  /** Drops the current Ros with everything roslib queued on it, and fails calls in flight. */
  private teardown(reason: string): void {
    this.generation++;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const ros = this.ros;
    this.ros = null;
    this.outputs = null;
    this.inputs = [];
    this.connectedSinceNs = null;
    if (ros) {
      ros.removeAllListeners();
      ros.on('error', () => {});
      try {
        ros.close();
      } catch {
        // already closed
      }
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection lost (${reason})`));
      this.pending.delete(id);
    }
  }

  private onMessage(stream: string, entry: Pick<StreamEntry, 'type' | 'timestamps'>, msg: unknown): void {
    const receiveNs = this.clock.nowNs();
    const topic = this.opts.streams[stream].topic;
    this.counters.messages[topic] = (this.counters.messages[topic] ?? 0) + 1;
    this.firstSeenNs[stream] ??= receiveNs;
    const seq = (this.seqs[stream] = (this.seqs[stream] ?? -1) + 1);
    const conv = CONVERTERS[entry.type](msg, {
      stream,
      receiveNs,
      useHeader: entry.timestamps === 'header',
      seq,
      robot: this.opts.config,
      gripForce: () => this.gripForce(),
      sinceFirstS: (receiveNs - this.firstSeenNs[stream]) / 1e9,
      mapStamp: (headerNs) => this.mapStamp(stream, headerNs, receiveNs),
    });
    if (conv.version && this.opts.config.ros_version === 'auto') this.version = conv.version;
    if (stream.startsWith('tactile/')) {
      const f = (conv.raw.data as { forces?: Float32Array }).forces;
      if (f) {
        const n = normalForce(f);
        if (Number.isFinite(n)) this.padForce.set(stream, n);
      }
    }
    this.events.emit('sample', conv.raw);
  }

  private mapStamp(stream: string, headerNs: number, receiveNs: number): number {
    const c = this.opts.config.clock;
    if (c.mode === 'trust') return headerNs;
    let tracker = this.trackers.get(stream);
    if (!tracker) this.trackers.set(stream, (tracker = new ClockTracker(c)));
    const m = tracker.map(headerNs, receiveNs);
    if (m.reanchored) this.log.warn({ stream, step_s: m.stepS }, 'sensor clock jumped and stayed: re-anchored to it');
    else if (m.jumped) this.counters.clock_jumps++;
    return m.captureNs;
  }

  /** Grip force (N): the mean normal force over the tactile pads (as the simulator reports it). */
  gripForce(): number {
    if (this.padForce.size === 0) return 0;
    let s = 0;
    for (const v of this.padForce.values()) s += v;
    return s / this.padForce.size;
  }

  private linkOpen(): boolean {
    return this._state === 'connected' && this.outputs !== null && this.ros !== null && this.ros.isConnected;
  }

  private publishMotion(a: ActionData, withGripper: boolean): void {
    const out = this.outputs!;
    const cfg = this.opts.config;
    out.twist.publish(twistMessage(a, this.clock.nowNs(), this.version, cfg.frame_id, cfg.outputs.twist_type === 'geometry_msgs/TwistStamped'));
    if (withGripper) out.gripper.publish({ data: a.gripper });
  }

  command(action: ActionData): boolean {
    if (!this.linkOpen()) {
      this.counters.motion_suppressed++;
      return false;
    }
    this.publishMotion(action, true);
    this.lastGripper = action.gripper;
    this.counters.commands_sent++;
    return true;
  }

  safeStop(): boolean {
    // Nothing to do while the link is down: the robot's own watchdog holds it, and a stop goes first on reconnect.
    if (!this.linkOpen()) return false;
    this.publishMotion(stopAction(this.lastGripper ?? 0), this.lastGripper !== null);
    this.counters.commands_sent++;
    this.counters.stops_sent++;
    return true;
  }

  publishHealth(status: DiagnosticStatus[], stampNs: number): void {
    if (!this.linkOpen()) return;
    this.outputs!.health.publish({ header: { stamp: makeStamp(stampNs, this.version), frame_id: '' }, status });
  }

  callService<T = unknown>(name: string, type: string, args: unknown, timeoutS = this.opts.config.service_timeout_s): Promise<T> {
    if (!this.linkOpen()) return Promise.reject(new Error(`${name}: not connected to ${this.opts.url}`));
    const id = this.nextCall++;
    const service = new ROSLIB.Service<unknown, T>({ ros: this.ros!, name, serviceType: type });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${name}: no answer within ${timeoutS} s`));
      }, timeoutS * 1000);
      this.pending.set(id, { reject, timer });
      const settle = (fn: () => void) => {
        if (!this.pending.has(id)) return;
        clearTimeout(timer);
        this.pending.delete(id);
        fn();
      };
      service.callService(
        args,
        (res) => settle(() => resolve(res)),
        (err) => settle(() => reject(new Error(`${name}: ${String(err)}`))),
        timeoutS,
      );
    });
  }

  async drain(timeoutMs = 500): Promise<void> {
    const socket = (this.ros as unknown as { transport?: { socket?: { bufferedAmount?: number } } } | null)?.transport?.socket;
    const t0 = performance.now();
    while (socket && (socket.bufferedAmount ?? 0) > 0 && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  }
}
