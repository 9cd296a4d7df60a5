// The deployment drill of `senseact demo`: `sim serve --faults` and `serve`
// as real processes, the daemon running the trained policy over rosbridge,
// one sensor dropout injected through the simulator's fault service, and the
// daemon's /status polled into a health timeline that shows the safe stop and
// the recovery. Children are killed on every exit path (including Ctrl-C).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as ROSLIB from 'roslib';

export interface DrillSample {
  t_s: number;
  state: string;
  level: string;
  stop_reason: string | null;
  safe_stops: number;
  /** Level of the stream under fault. */
  fault_stream: string;
}

export interface DrillResult {
  timeline: DrillSample[];
  fault: { topic: string; stream: string; at_s: number; duration_s: number };
  /** First time after the fault that the daemon was in safe stop, s (null: never). */
  safe_stop_at_s: number | null;
  /** First time after the safe stop that motion resumed, s (null: never). */
  resumed_at_s: number | null;
  sigterm_exit: number | null;
}

export interface DrillOptions {
  bin: string;
  policy: string;
  task: string;
  seed: number;
  /** Topic to stop, and the stream it feeds. */
  topic?: string;
  stream?: string;
  duration_s?: number;
  before_s?: number;
  after_s?: number;
  log?: (line: string) => void;
}

function child(bin: string, args: string[]): { proc: ChildProcess; out: string[]; err: string[] } {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.dirname(path.dirname(bin)) });
  const out: string[] = [];
  const err: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr!.on('data', (d: Buffer) => err.push(...d.toString().split('\n').filter(Boolean)));
  return { proc, out, err };
}

async function until<T>(fn: () => Promise<T | null> | T | null, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await Promise.resolve(fn()).catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function callFault(url: string, args: Record<string, unknown>): Promise<void> {
  const ros = new ROSLIB.Ros({});
  try {
    await new Promise<void>((resolve, reject) => {
      ros.on('connection', () => resolve());
      ros.on('error', () => reject(new Error(`cannot connect to ${url}`)));
      void ros.connect(url);
    });
    const service = new ROSLIB.Service<unknown, { success: boolean; message: string }>({ ros, name: '/senseact/faults', serviceType: 'senseact_msgs/Fault' });
    const r = await new Promise<{ success: boolean; message: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fault service: no answer in 5 s')), 5000);
      service.callService(args, (v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(new Error(String(e)))));
    });
    if (!r.success) throw new Error(`fault service: ${r.message}`);
  } finally {
    ros.close();
  }
}

export async function faultDrill(o: DrillOptions): Promise<DrillResult> {
  const log = o.log ?? (() => {});
  const topic = o.topic ?? '/tactile/left';
  const stream = o.stream ?? 'tactile/left';
  const duration = o.duration_s ?? 3;
  const children: ChildProcess[] = [];
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  const onSignal = () => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sim = child(o.bin, ['sim', 'serve', '--task', o.task, '--seed', String(o.seed), '--rosbridge', '127.0.0.1:0', '--faults']);
    children.push(sim.proc);
    const url = await until(() => sim.err.map((l) => /on (ws:\/\/127\.0\.0\.1:\d+)/.exec(l)?.[1]).find(Boolean) ?? null, 60_000, 'sim serve to listen');
    log(`sim serve on ${url}`);
    const serve = child(o.bin, ['serve', '--policy', o.policy, '--robot', url, '--http', '127.0.0.1:0']);
    children.push(serve.proc);
    const http = await until(
      () =>
        serve.out
          .map((l) => {
            try {
              const j = JSON.parse(l) as { msg?: string; url?: string };
              return j.msg === 'http listening' ? j.url! : null;
            } catch {
              return null;
            }
          })
          .find(Boolean) ?? null,
      60_000,
      'serve to listen',
    );
    log(`serve on ${http}; waiting for /readyz`);
    await until(async () => ((await fetch(`${http}/readyz`)).status === 200 ? true : null), 120_000, 'the daemon to be ready');
    const t0 = performance.now();
    const timeline: DrillSample[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const s = (await (await fetch(`${http}/status`)).json()) as { state: string; level: string; stop_reason: string | null; safe_stops: number; streams: Record<string, { level: string }> };
          timeline.push({ t_s: (performance.now() - t0) / 1000, state: s.state, level: s.level, stop_reason: s.stop_reason, safe_stops: s.safe_stops, fault_stream: s.streams[stream]?.level ?? '?' });
        } catch {
          // the daemon may be busy; the next poll will catch up
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // The gate starts stopped and lets the robot move once the system has
    // been healthy for resume_after_s: fault only a robot that is running.
    await until(() => (timeline.at(-1)?.state === 'running' ? true : null), 60_000, 'the robot to start moving');
    log(`running; fault in ${o.before_s ?? 5} s`);
    await new Promise((r) => setTimeout(r, (o.before_s ?? 5) * 1000));
    const at = (performance.now() - t0) / 1000;
    log(`injecting: ${topic} stops for ${duration} s`);
    await callFault(url, { fault: 'stop', topic, duration_s: duration });
    await new Promise((r) => setTimeout(r, (duration + (o.after_s ?? 8)) * 1000));
    polling = false;
    await poller;
    serve.proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => serve.proc.once('exit', (c) => r(c)));
    // The stop that counts is the one the fault caused: the robot held while
    // the faulted stream is ERROR/STALE. Recovery: running again after it ends.
    const after = timeline.filter((s) => s.t_s >= at);
    const stop = after.find((s) => s.state !== 'running' && (s.fault_stream === 'ERROR' || s.fault_stream === 'STALE'));
    const resumed = stop ? after.find((s) => s.t_s > Math.max(stop.t_s, at + duration) && s.state === 'running') : undefined;
    return { timeline, fault: { topic, stream, at_s: at, duration_s: duration }, safe_stop_at_s: stop?.t_s ?? null, resumed_at_s: resumed?.t_s ?? null, sigterm_exit: code };
  } finally {
    killAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The health timeline as SVG: level and run/stop state over time, the fault window shaded. */
export function drillSvg(r: DrillResult): string {
  const W = 760;
  const H = 170;
  const T = Math.max(1, ...r.timeline.map((s) => s.t_s));
  const x = (t: number) => 60 + (t / T) * (W - 80);
  const levelY: Record<string, number> = { OK: 40, WARN: 60, ERROR: 80, STALE: 100 };
  const pts = (f: (s: DrillSample) => number) => r.timeline.map((s, i) => `${i ? 'L' : 'M'}${x(s.t_s).toFixed(1)},${f(s)}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11"><rect width="${W}" height="${H}" fill="white"/>
<rect x="${x(r.fault.at_s)}" y="25" width="${x(r.fault.at_s + r.fault.duration_s) - x(r.fault.at_s)}" height="${H - 45}" fill="#fdd"/>
<text x="${x(r.fault.at_s) + 3}" y="20">${r.fault.topic} stopped</text>
${Object.entries(levelY).map(([k, y]) => `<text x="55" y="${y + 4}" text-anchor="end">${k}</text>`).join('')}
<path d="${pts((s) => levelY[s.level] ?? 100)}" fill="none" stroke="#d62728" stroke-width="1.5"/>
<text x="55" y="134" text-anchor="end">motion</text>
<path d="${pts((s) => (s.state === 'running' ? 124 : 140))}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>
<text x="${W - 20}" y="${H - 5}" text-anchor="end">t (s), health level (red) and running/stopped (blue)</text></svg>`;
}
