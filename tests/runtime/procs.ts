// Real processes for the runtime tests: `senseact sim serve --faults` and
// `senseact serve`, on 127.0.0.1 ephemeral ports, plus a roslib client for
// the fault service. Every process started here is tracked and killed by
// `killAll()` (call it in afterAll), by its own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ROSLIB from 'roslib';
import { BIN, ROOT } from '../helpers/cli.ts';

const live = new Set<Proc>();

export class Proc {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(this);
    const lines = (buf: string[], carry: { s: string }) => (chunk: Buffer) => {
      carry.s += chunk.toString();
      const parts = carry.s.split('\n');
      carry.s = parts.pop()!;
      buf.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    };
    child.stdout!.on('data', lines(this.stdout, { s: '' }));
    child.stderr!.on('data', lines(this.stderr, { s: '' }));
    this.exited = new Promise((resolve) => {
      // 'close' comes after 'exit' once stdout/stderr are drained: no log line is missed.
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** JSON log lines (pino) from stdout. */
  logs(): Record<string, any>[] {
    const out: Record<string, any>[] = [];
    for (const l of this.stdout) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l));
      } catch {
        // a partial line
      }
    }
    return out;
  }

  /** Waits until `pred` holds over the output so far (re-checked on each new line). */
  async waitFor<T>(pred: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = pred();
      if (v) return v;
      if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) while waiting for ${what}\n${this.tail()}`);
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  tail(n = 15): string {
    return [...this.stderr.slice(-n).map((l) => `[stderr] ${l}`), ...this.stdout.slice(-n).map((l) => `[stdout] ${l.slice(0, 400)}`)].join('\n');
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exit) this.child.kill(signal);
  }
}

export function spawnSenseact(name: string, args: string[], nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir() },
  });
  return new Proc(name, child);
}

/** Kills every process still running (SIGKILL after a grace period), by pid. */
export async function killAll(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.kill('SIGTERM');
  await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

export interface SimServer {
  proc: Proc;
  port: number;
  url: string;
}

/** `senseact sim serve --faults` on `port` (0: an ephemeral port). */
export async function startSim(opts: { port?: number; camera?: boolean; task?: string; seed?: number } = {}): Promise<SimServer> {
  const args = ['sim', 'serve', '--task', opts.task ?? 'pick-place', '--seed', String(opts.seed ?? 1), '--rosbridge', `127.0.0.1:${opts.port ?? 0}`, '--faults'];
  if (!opts.camera) args.push('--no-camera');
  const proc = spawnSenseact('sim serve', args);
  const url = await proc.waitFor(() => proc.stderr.map((l) => /on (ws:\/\/127\.0\.0\.1:\d+)/.exec(l)?.[1]).find(Boolean), 60_000, 'sim serve to listen');
  return { proc, url, port: Number(url.split(':').pop()) };
}

export interface Served {
  proc: Proc;
  http: string;
  configFile: string;
}

/** `senseact serve` with a JSON config written to a temp file. */
export async function startServe(policy: string, robot: string, config: object, nodeArgs: string[] = []): Promise<Served> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-serve-'));
  const configFile = path.join(dir, 'serve.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const proc = spawnSenseact('serve', ['serve', '--policy', policy, '--robot', robot, '--http', '127.0.0.1:0', '--config', configFile], nodeArgs);
  const log = await proc.waitFor(() => proc.logs().find((l) => l.msg === 'http listening'), 60_000, 'serve to listen');
  return { proc, http: log.url as string, configFile };
}

export async function get(base: string, p: string): Promise<{ status: number; body: string; json: () => any }> {
  const res = await fetch(base + p);
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) };
}

export async function post(base: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + p, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parses Prometheus text into name{labels} → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1], m[2] === '+Inf' ? Infinity : m[2] === 'NaN' ? NaN : Number(m[2]));
  }
  return out;
}

export interface Command {
  t_ms: number;
  client: number;
  topic: string;
  msg: { twist?: { linear: { x: number; y: number; z: number }; angular: { x: number; y: number; z: number } }; header?: { stamp: Record<string, number> }; data?: number };
}

/** A roslib client on the sim server: fault injection, the command log, topics. */
export class SimClient {
  private constructor(readonly ros: ROSLIB.Ros) {}

  static async connect(url: string): Promise<SimClient> {
    const ros = new ROSLIB.Ros({});
    await new Promise<void>((resolve, reject) => {
      ros.on('connection', () => resolve());
      ros.on('error', () => reject(new Error(`cannot connect to ${url}`)));
      ros.connect(url).catch(reject);
    });
    return new SimClient(ros);
  }

  call<T>(service: string, type: string, args: unknown, timeoutS = 5): Promise<T> {
    const s = new ROSLIB.Service<unknown, T>({ ros: this.ros, name: service, serviceType: type });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${service}: no answer in ${timeoutS} s`)), timeoutS * 1000);
      s.callService(
        args,
        (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        (e) => {
          clearTimeout(timer);
          reject(new Error(String(e)));
        },
      );
    });
  }

  async fault(args: Record<string, unknown>): Promise<void> {
    const r = await this.call<{ success: boolean; message: string }>('/senseact/faults', 'senseact_msgs/Fault', args);
    if (!r.success) throw new Error(r.message);
  }

  /** Motion commands the server received since `sinceMs` (its Date.now()). */
  async commands(sinceMs = 0): Promise<Command[]> {
    const r = await this.call<{ success: boolean; message: string }>('/senseact/faults', 'senseact_msgs/Fault', { fault: 'commands', since_ms: sinceMs });
    return JSON.parse(r.message) as Command[];
  }

  /** Latest joint positions by name, kept up to date. */
  watchJoints(): { position: Record<string, number>; count: number; stop: () => void } {
    const state = { position: {} as Record<string, number>, count: 0, stop: () => t.unsubscribe() };
    const t = new ROSLIB.Topic<{ name: string[]; position: number[] }>({ ros: this.ros, name: '/joint_states', messageType: 'sensor_msgs/JointState' });
    t.subscribe((m) => {
      state.count++;
      if (Array.isArray(m.name) && Array.isArray(m.position)) m.name.forEach((n, i) => (state.position[n] = m.position[i]));
    });
    return state;
  }

  /** Collects messages on a topic until stop(). */
  collect<T>(topic: string, type: string): { messages: T[]; stop: () => void } {
    const t = new ROSLIB.Topic<T>({ ros: this.ros, name: topic, messageType: type });
    const out = { messages: [] as T[], stop: () => t.unsubscribe() };
    t.subscribe((m) => out.messages.push(m));
    return out;
  }

  publish(topic: string, type: string, msg: unknown): void {
    new ROSLIB.Topic<unknown>({ ros: this.ros, name: topic, messageType: type }).publish(msg);
  }

  close(): void {
    this.ros.close();
  }
}

export const isZeroTwist = (c: Command) => !!c.msg.twist && [c.msg.twist.linear.x, c.msg.twist.linear.y, c.msg.twist.linear.z, c.msg.twist.angular.x, c.msg.twist.angular.y, c.msg.twist.angular.z].every((v) => v === 0);
export const isTwist = (c: Command) => c.topic === '/senseact/cmd_twist';
