// `senseact bench loop`: how steady the control loop ticks and how fresh its
// commands are, on the in-process simulator and over rosbridge (`sim serve`
// in a child process, the real roslib client here).
//
// - tick jitter: |interval between consecutive tick starts − period|; and
//   lateness: how late each tick starts against its fixed-rate schedule (a
//   loop that reschedules from "now" drifts: its lateness grows);
// - sample-to-command latency: command sent − receive time of the newest
//   sample in the frame the command was computed from (capture-to-command
//   too: the sensor's own stamp, mapped onto our clock);
// - inference latency of the policy.
//
// Ours: the senseact runtime (Runtime: streams with validation and health,
// synchronizer, health monitor at 50 Hz, stop gate, safety filter) driving the
// robot adapter. Peer: a bare loop in the same process on the same adapter —
// setInterval at the same rate, the newest raw sample per stream put into a
// frame by hand, the same policy, the command sent — no validation, health,
// synchronizer or safety. The ratio is the price of the runtime's checks.
//
// Policies: the reference policy is the nearest-neighbour baseline
// (policy/nearest, `train --kind nearest`) fitted on two expert demos recorded
// here (pick-place, physics only); `scripted:wave` (no inference cost) shows
// the runtime alone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modalityOf, systemClock, type Frame, type FrameSlot, type Sample } from '../sensors/index.ts';
import { parseConfig, type RuntimeConfig } from '../runtime/config.ts';
import type { Robot, RawSample } from '../runtime/robot.ts';
import { Runtime, createController, createRobot, resolveStreams, type RuntimeLogger } from '../runtime/runtime.ts';

export interface LoopBenchOptions {
  /** Measured seconds per run (after a warm-up). Default 10. */
  seconds?: number;
  warmupS?: number;
  rateHz?: number;
  robots?: ('sim' | 'rosbridge')[];
  policies?: ('reference' | 'scripted')[];
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export interface LoopRun {
  robot: 'sim' | 'rosbridge';
  policy: string;
  runner: 'senseact' | 'bare loop';
  ticks: number;
  commands: number;
  /** senseact only: safe stops during the measured window (a loaded machine starves streams). */
  safe_stops: number;
  jitter_ms: Quantiles;
  lateness_ms: Quantiles;
  sample_to_command_ms: Quantiles;
  capture_to_command_ms: Quantiles;
  inference_ms: Quantiles;
}

export interface LoopBenchResult {
  bench: 'loop';
  machine: { cpus: number; cpu: string; node: string; load_avg_1m: number };
  rate_hz: number;
  seconds: number;
  reference_policy: string;
  peer: string;
  runs: LoopRun[];
  /** senseact / bare loop, per robot and policy (p99 jitter, p50 and p99 sample-to-command). */
  ratios: { robot: string; policy: string; jitter_p99: number; s2c_p50: number; s2c_p99: number }[];
}

const quiet: RuntimeLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

function quantiles(xs: number[]): Quantiles {
  if (xs.length === 0) return { p50: NaN, p99: NaN, max: NaN, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { p50: q(0.5), p99: q(0.99), max: s[s.length - 1], n: s.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two expert demos and the nearest-neighbour baseline fitted on them. */
async function referencePolicy(dir: string): Promise<string> {
  const { recordEpisodes } = await import('../sim/index.ts');
  const { trainPolicy } = await import('../policy/index.ts');
  const data = path.join(dir, 'demos');
  await recordEpisodes({ task: 'pick-place', driver: 'full', episodes: 2, firstSeed: 0, outDir: data, fsync: false });
  const out = path.join(dir, 'reference.safetensors');
  await trainPolicy({ data, out, config: { kind: 'nearest', modalities: ['tactile', 'smell', 'proprio'] }, backend: 'cpu', resume: false });
  return out;
}

async function startSimServe(): Promise<{ child: ChildProcess; url: string }> {
  const root = path.resolve(import.meta.dirname, '..');
  const child = spawn(process.execPath, [path.join(root, 'bin/senseact.mjs'), 'sim', 'serve', '--task', 'pick-place', '--no-camera', '--rosbridge', '127.0.0.1:0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`sim serve did not start: ${err.slice(-500)}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /on (ws:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`sim serve exited (${code}): ${err.slice(-500)}`)));
  });
  return { child, url };
}

interface Collector {
  starts: number[];
  late: number[];
  s2c: number[];
  c2c: number[];
  inference: number[];
  ticks: number;
  commands: number;
  stops: number;
}

const newCollector = (): Collector => ({ starts: [], late: [], s2c: [], c2c: [], inference: [], ticks: 0, commands: 0, stops: 0 });

/** |interval − period| between consecutive tick starts (ms). */
function jitter(starts: number[], periodMs: number): number[] {
  const s = [...starts].sort((a, b) => a - b);
  return s.slice(1).map((t, i) => Math.abs(t - s[i] - periodMs));
}

async function runSenseact(robotKind: 'sim' | 'rosbridge', address: string, policy: string, config: RuntimeConfig, seconds: number, warmupS: number): Promise<Collector> {
  const controller = await createController(policy, 'cpu');
  const streams = resolveStreams(config, controller);
  const robot = await createRobot(address, config, streams, quiet);
  const rt = new Runtime({ config, controller, robot, streams, logger: quiet });
  const c = newCollector();
  let measuring = false;
  rt.loop.events.on('tick', (e) => {
    if (!measuring) return;
    c.ticks++;
    c.starts.push(e.t_ns / 1e6);
    c.late.push(Math.max(0, e.lateS) * 1000);
  });
  rt.loop.events.on('stop', () => {
    if (measuring) c.stops++;
  });
  rt.loop.events.on('command', (e) => {
    if (!measuring || !e.sent) return;
    c.commands++;
    c.inference.push(e.inferenceS * 1000);
    if (e.sampleToCommandS !== null) c.s2c.push(e.sampleToCommandS * 1000);
    if (e.captureToCommandS !== null) c.c2c.push(e.captureToCommandS * 1000);
  });
  await rt.start();
  const t0 = performance.now();
  while (rt.gate.state !== 'running' && performance.now() - t0 < 30_000) await sleep(50);
  await sleep(warmupS * 1000);
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  await rt.stop();
  void robotKind;
  return c;
}

/** The peer: setInterval, newest raw sample per stream, the same policy, no checks. */
async function runBare(address: string, policy: string, config: RuntimeConfig, seconds: number, warmupS: number): Promise<Collector> {
  const controller = await createController(policy, 'cpu');
  const streams = resolveStreams(config, controller);
  const robot: Robot = await createRobot(address, config, streams, quiet);
  const latest = new Map<string, RawSample[]>();
  const smell = controller.layout.smell;
  robot.events.on('sample', (s) => {
    const list = latest.get(s.stream) ?? [];
    list.push(s);
    if (list.length > (s.stream === smell.stream ? smell.history : 1)) list.shift();
    latest.set(s.stream, list);
  });
  await controller.act({ t_ns: 0, slots: {}, masked: [] });
  controller.reset();
  await robot.start();
  const c = newCollector();
  const period = 1000 / config.rate_hz;
  let measuring = false;
  let busy = false;
  const t0 = performance.now();
  let k = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const due = t0 + ++k * period;
    if (measuring) {
      c.ticks++;
      c.starts.push(now);
      c.late.push(Math.max(0, now - due));
    }
    if (busy) return;
    busy = true;
    const tNs = systemClock.nowNs();
    const slots: Record<string, FrameSlot> = {};
    let newestReceive = -Infinity;
    let newestCapture = -Infinity;
    for (const [name, list] of latest) {
      const sample = list[list.length - 1] as unknown as Sample;
      newestReceive = Math.max(newestReceive, sample.t_receive_ns);
      newestCapture = Math.max(newestCapture, sample.t_capture_ns);
      slots[name] = { stream: name, modality: modalityOf(name)!, sample, age_s: (tNs - sample.t_capture_ns) / 1e9, masked: false, reason: 'ok', health: 'OK', health_message: '', history: list as unknown as Sample[] };
    }
    const frame: Frame = { t_ns: tNs, slots, masked: [] };
    const start = systemClock.nowNs();
    controller
      .act(frame)
      .then((a) => {
        const sent = robot.command(a);
        const after = systemClock.nowNs();
        if (measuring && sent) {
          c.commands++;
          c.inference.push((after - start) / 1e6);
          if (Number.isFinite(newestReceive)) c.s2c.push((after - newestReceive) / 1e6);
          if (Number.isFinite(newestCapture)) c.c2c.push((after - newestCapture) / 1e6);
        }
      })
      .catch(() => {})
      .finally(() => (busy = false));
  }, period);
  await sleep(warmupS * 1000);
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  clearInterval(timer);
  await robot.close();
  controller.dispose();
  return c;
}

export async function benchLoop(opts: LoopBenchOptions = {}): Promise<LoopBenchResult> {
  const seconds = opts.seconds ?? 10;
  const warmupS = opts.warmupS ?? 2;
  const rateHz = opts.rateHz ?? 20;
  const robots = opts.robots ?? ['sim', 'rosbridge'];
  const policies = opts.policies ?? ['reference', 'scripted'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-bench-loop-'));
  const total = 1 + robots.length * policies.length * 2;
  let done = 0;
  const progress = (what: string) => opts.onProgress?.(++done, total, what);
  const policyFor: Record<string, string> = { scripted: 'scripted:wave' };
  if (policies.includes('reference')) policyFor.reference = await referencePolicy(dir);
  progress('reference policy');
  // Generous stale limits: the bench measures the loop, and on a loaded machine the
  // simulator's own stalls would otherwise hold the robot (the stops are counted).
  const config = parseConfig({ rate_hz: rateHz, health: { min_stale_s: 1, resume_after_s: 0.5 }, streams: { 'camera/wrist': { enabled: false } } }, '(bench)');
  const runs: LoopRun[] = [];
  let server: { child: ChildProcess; url: string } | null = null;
  try {
    for (const robot of robots) {
      let address = 'sim:pick-place';
      if (robot === 'rosbridge') {
        server = await startSimServe();
        address = server.url;
      }
      for (const policy of policies) {
        // Alternate which runner goes first so drift in machine load hits both.
        const order: ('senseact' | 'bare loop')[] = runs.length % 4 === 0 ? ['senseact', 'bare loop'] : ['bare loop', 'senseact'];
        for (const runner of order) {
          const c = runner === 'senseact' ? await runSenseact(robot, address, policyFor[policy], config, seconds, warmupS) : await runBare(address, policyFor[policy], config, seconds, warmupS);
          runs.push({
            robot,
            policy: policy === 'reference' ? 'nearest (reference)' : 'scripted:wave',
            runner,
            ticks: c.ticks,
            commands: c.commands,
            safe_stops: c.stops,
            jitter_ms: quantiles(jitter(c.starts, 1000 / rateHz)),
            lateness_ms: quantiles(c.late),
            sample_to_command_ms: quantiles(c.s2c),
            capture_to_command_ms: quantiles(c.c2c),
            inference_ms: quantiles(c.inference),
          });
          progress(`${robot} ${policy} ${runner}`);
        }
      }
      if (server) {
        server.child.kill('SIGTERM');
        await new Promise((r) => server!.child.once('exit', r));
        server = null;
      }
    }
  } finally {
    if (server) server.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ratios: LoopBenchResult['ratios'] = [];
  for (const robot of robots)
    for (const p of new Set(runs.map((r) => r.policy))) {
      const ours = runs.find((r) => r.robot === robot && r.policy === p && r.runner === 'senseact');
      const peer = runs.find((r) => r.robot === robot && r.policy === p && r.runner === 'bare loop');
      if (!ours || !peer) continue;
      ratios.push({
        robot,
        policy: p,
        jitter_p99: ours.jitter_ms.p99 / peer.jitter_ms.p99,
        s2c_p50: ours.sample_to_command_ms.p50 / peer.sample_to_command_ms.p50,
        s2c_p99: ours.sample_to_command_ms.p99 / peer.sample_to_command_ms.p99,
      });
    }
  return {
    bench: 'loop',
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, load_avg_1m: os.loadavg()[0] },
    rate_hz: rateHz,
    seconds,
    reference_policy: 'nearest-neighbour baseline (policy/nearest) on 2 pick-place expert demos, touch + smell + proprio',
    peer: 'bare setInterval loop on the same robot adapter: newest raw sample per stream, same policy, no validation/health/synchronizer/safety',
    runs,
    ratios,
  };
}

export function formatLoopBench(r: LoopBenchResult): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
  const lines = [
    `bench loop — ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}, load ${r.machine.load_avg_1m.toFixed(1)}; ${r.rate_hz} Hz, ${r.seconds} s per run`,
    `reference policy: ${r.reference_policy}`,
    `peer: ${r.peer}`,
    'robot      policy               runner      ticks  stops  jitter p50/p99 ms   late p99 ms  sample→cmd p50/p99 ms   capture→cmd p50/p99 ms   inference p50/p99 ms',
  ];
  for (const x of r.runs) {
    lines.push(
      `${x.robot.padEnd(10)} ${x.policy.padEnd(20)} ${x.runner.padEnd(10)} ${String(x.ticks).padStart(6)} ${String(x.safe_stops).padStart(6)}  ${`${f(x.jitter_ms.p50)} / ${f(x.jitter_ms.p99)}`.padEnd(18)} ${f(x.lateness_ms.p99).padEnd(12)} ${`${f(x.sample_to_command_ms.p50)} / ${f(x.sample_to_command_ms.p99)}`.padEnd(23)} ${`${f(x.capture_to_command_ms.p50)} / ${f(x.capture_to_command_ms.p99)}`.padEnd(24)} ${f(x.inference_ms.p50)} / ${f(x.inference_ms.p99)}`,
    );
  }
  for (const q of r.ratios) lines.push(`senseact / bare loop (${q.robot}, ${q.policy}): jitter p99 ×${f(q.jitter_p99)}, sample→command p50 ×${f(q.s2c_p50)}, p99 ×${f(q.s2c_p99)}`);
  return lines.join('\n');
}
