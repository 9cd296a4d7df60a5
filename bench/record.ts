// `senseact bench record`: how fast and how cheaply the episode log records
// the sensor mix of a real session, against a named peer measured in the same
// process on the same data.
//
// Mix: camera 30 Hz (640×480 JPEG, a few distinct frames encoded once up front
// so image encoding is excluded), two tactile pads at 100 Hz (4×4×3 taxels),
// smell at 2 Hz, proprio at 100 Hz. Ours: LogWriter (zod validation, MCAP
// chunks, zstd, fsync per chunk). Peer: the same samples as JSON lines, one
// fs.writeSync per message (binary fields as base64 / number arrays), which is
// what a logger without a container format does. Both run as fast as they can
// over the same simulated seconds; then ours runs at real-time rate to count
// drops.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogReader, LogWriter, syntheticMix, testCard, type CameraData, type Sample } from '../sensors/index.ts';

export interface RecordBenchOptions {
  /** Simulated seconds recorded as fast as possible (default 60). */
  seconds?: number;
  /** Wall-clock seconds recorded at real-time rate for the drop check (default 5). */
  realtime_s?: number;
  /** Alternating runs of ours and the peer; medians are reported (default 3). */
  repeats?: number;
  width?: number;
  height?: number;
  /** Distinct JPEG frames, encoded once (default 16: more than the 15 frames of one 0.5 s chunk, so no chunk holds a repeated frame for zstd to exploit). */
  frames?: number;
  dir?: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface RunStats {
  wall_s: number;
  cpu_s: number;
  messages: number;
  messages_per_s: number;
  /** Bytes written to disk per wall second, MB (10^6). */
  mb_per_s: number;
  file_mb: number;
  /** CPU seconds spent per second of recorded data. */
  cpu_s_per_recorded_s: number;
}

export interface RecordBenchResult {
  benchmark: 'record';
  date: string;
  machine: { cpus: number; cpu_model: string; node: string; platform: string };
  config: {
    seconds: number;
    repeats: number;
    streams: Record<string, { hz: number; messages: number }>;
    jpeg: { width: number; height: number; distinct_frames: number; mean_bytes: number };
    messages: number;
    payload_mb: number;
  };
  ours: RunStats & { name: string; runs: RunStats[] };
  /** Ours without chunk compression: what the container alone costs. */
  ours_uncompressed: RunStats & { runs: RunStats[] };
  peer: RunStats & { name: string; runs: RunStats[] };
  /** ours / peer for throughputs, peer / ours for costs: > 1 means ours is better. */
  ratio: { messages_per_s: number; cpu_s_per_recorded_s: number; file_size: number };
  goal: { cpu_s_per_recorded_s: number; met: boolean };
  realtime: {
    seconds: number;
    generated: number;
    recorded: number;
    drops: number;
    /** Worst delay from a sample's capture time to its write, ms. */
    max_lag_ms: number;
    p99_write_ms: number;
    max_write_ms: number;
    /** Recorder plus the driver handing samples over on timers. */
    cpu_s_per_recorded_s: number;
    /** The driver alone, same schedule, nothing recorded. */
    driver_only_cpu_s_per_s: number;
  };
}

const META = { task: 'bench-record', robot: 'synthetic', operator: 'bench', seed: 0, success: null, notes: 'senseact bench record' };
const RATES = { camera_hz: 30, tactile_hz: 100, smell_hz: 2, proprio_hz: 100 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function stats(wall: number, cpu: number, messages: number, bytes: number, seconds: number): RunStats {
  return {
    wall_s: wall,
    cpu_s: cpu,
    messages,
    messages_per_s: messages / wall,
    mb_per_s: bytes / 1e6 / wall,
    file_mb: bytes / 1e6,
    cpu_s_per_recorded_s: cpu / seconds,
  };
}

function medianStats(runs: RunStats[]): RunStats {
  const pick = (k: keyof RunStats) => median(runs.map((r) => r[k]));
  return {
    wall_s: pick('wall_s'),
    cpu_s: pick('cpu_s'),
    messages: runs[0].messages,
    messages_per_s: pick('messages_per_s'),
    mb_per_s: pick('mb_per_s'),
    file_mb: pick('file_mb'),
    cpu_s_per_recorded_s: pick('cpu_s_per_recorded_s'),
  };
}

async function runOurs(samples: Sample[], file: string, seconds: number, compression: 'zstd' | 'none' = 'zstd'): Promise<RunStats> {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const w = await LogWriter.open(file, { meta: META, compression });
  for (const s of samples) {
    const r = w.write(s);
    if (!r.ok) throw r.error;
  }
  const summary = await w.finalize({ success: true });
  const wall = (performance.now() - t0) / 1e3;
  const cpu = cpuSeconds() - cpu0;
  return stats(wall, cpu, summary.messages, summary.bytes, seconds);
}

/** The peer: JSON lines, one write per message, binary as base64 / number arrays. */
function toJsonLine(s: Sample): string {
  return JSON.stringify(s, (_k, v) => {
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (v instanceof Float32Array) return Array.from(v);
    return v;
  });
}

function runPeer(samples: Sample[], file: string, seconds: number): RunStats {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  for (const s of samples) bytes += fs.writeSync(fd, toJsonLine(s) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const wall = (performance.now() - t0) / 1e3;
  return stats(wall, cpuSeconds() - cpu0, samples.length, bytes, seconds);
}

/**
 * Replays `schedule` on the wall clock (each sample handed over once its
 * capture time has come), calling `take` for each; returns the CPU seconds used.
 */
async function pace(schedule: Sample[], take: (s: Sample, nowNs: number) => void): Promise<number> {
  let next = 0;
  const cpu0 = cpuSeconds();
  await new Promise<void>((resolve, reject) => {
    const tick = () => {
      try {
        const now = Date.now() * 1e6;
        while (next < schedule.length && schedule[next].t_capture_ns <= now) take(schedule[next++], now);
        if (next >= schedule.length) resolve();
        else setTimeout(tick, Math.max(0, (schedule[next].t_capture_ns - Date.now() * 1e6) / 1e6));
      } catch (err) {
        reject(err as Error);
      }
    };
    setTimeout(tick, 1);
  });
  return cpuSeconds() - cpu0;
}

/** Records the mix at real-time rate for `seconds` and counts what did not reach the file. */
async function runRealtime(frames: CameraData[], file: string, seconds: number): Promise<RecordBenchResult['realtime']> {
  const schedule = (t0: number) => [...syntheticMix({ t0_ns: t0, frames, ...RATES, latency_ns: 0 }, seconds)];
  // The driver alone (timers handing samples over), to separate its cost from the recorder's.
  let sink = 0; // keeps the spread from being optimized away
  const driverCpu = await pace(schedule(Date.now() * 1e6 + 50e6), (s, now) => {
    sink += { ...s, t_receive_ns: now }.seq;
  });
  const planned = schedule(Date.now() * 1e6 + 50e6);
  const w = await LogWriter.open(file, { meta: META, flushEveryMs: 250 });
  const writeMs: number[] = [];
  let maxLag = 0;
  const cpu0 = cpuSeconds();
  await pace(planned, (s, now) => {
    const a = performance.now();
    const r = w.write({ ...s, t_receive_ns: Math.max(now, s.t_capture_ns) });
    writeMs.push(performance.now() - a);
    if (!r.ok) throw r.error;
    maxLag = Math.max(maxLag, (now - s.t_capture_ns) / 1e6);
  });
  await w.finalize({ success: true });
  const cpu = cpuSeconds() - cpu0;
    const r = await LogReader.open(file, { recover: false });
  let recorded = 0;
  for (const c of r.channels) recorded += r.count(c.stream);
  await r.close();
  writeMs.sort((a, b) => a - b);
  return {
    seconds,
    generated: planned.length,
    recorded,
    drops: planned.length - recorded,
    max_lag_ms: maxLag,
    p99_write_ms: writeMs[Math.floor(writeMs.length * 0.99)] ?? 0,
    max_write_ms: writeMs[writeMs.length - 1] ?? 0,
    cpu_s_per_recorded_s: cpu / seconds,
    driver_only_cpu_s_per_s: driverCpu / seconds,
  };
}

export async function benchRecord(options: RecordBenchOptions = {}): Promise<RecordBenchResult> {
  const seconds = options.seconds ?? 60;
  const repeats = options.repeats ?? 3;
  const realtimeS = options.realtime_s ?? 5;
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const distinct = options.frames ?? 16;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-bench-record-'));
  const ownDir = options.dir === undefined;
  const steps = 1 + repeats * 3 + 1;
  let step = 0;
  const progress = (what: string) => options.onProgress?.(step++, steps, what);
  try {
    progress('encoding frames');
    const frames = Array.from({ length: distinct }, (_, i) => testCard(width, height, i));
    const samples = [...syntheticMix({ t0_ns: 1_700_000_000_000_000_000, frames, ...RATES }, seconds)];
    const streams: RecordBenchResult['config']['streams'] = {};
    let payload = 0;
    for (const s of samples) {
      const hz = s.stream.startsWith('camera') ? RATES.camera_hz : s.stream.startsWith('tactile') ? RATES.tactile_hz : s.stream === 'smell' ? RATES.smell_hz : RATES.proprio_hz;
      streams[s.stream] ??= { hz, messages: 0 };
      streams[s.stream].messages++;
      const d = s.data as { data?: Uint8Array; forces?: Float32Array };
      payload += d.data?.byteLength ?? d.forces?.byteLength ?? 64;
    }
    const ours: RunStats[] = [];
    const plain: RunStats[] = [];
    const peer: RunStats[] = [];
    // Warm-up (JIT, the zstd wasm heap, the page cache) on the first second, not timed.
    const warm = samples.filter((x) => x.t_capture_ns < samples[0].t_capture_ns + 1e9);
    await runOurs(warm, path.join(dir, 'warm.mcap'), 1);
    runPeer(warm, path.join(dir, 'warm.jsonl'), 1);
    fs.rmSync(path.join(dir, 'warm.mcap'), { force: true });
    fs.rmSync(path.join(dir, 'warm.jsonl'), { force: true });
    for (let i = 0; i < repeats; i++) {
      progress(`ours, run ${i + 1}`);
      const f = path.join(dir, `ours-${i}.mcap`);
      ours.push(await runOurs(samples, f, seconds));
      fs.rmSync(f, { force: true });
      progress(`ours uncompressed, run ${i + 1}`);
      const u = path.join(dir, `plain-${i}.mcap`);
      plain.push(await runOurs(samples, u, seconds, 'none'));
      fs.rmSync(u, { force: true });
      progress(`peer, run ${i + 1}`);
      const p = path.join(dir, `peer-${i}.jsonl`);
      peer.push(runPeer(samples, p, seconds));
      fs.rmSync(p, { force: true });
    }
    progress(`real time, ${realtimeS} s`);
    const realtime = await runRealtime(frames, path.join(dir, 'realtime.mcap'), realtimeS);
    options.onProgress?.(steps, steps, 'done');
    const o = medianStats(ours);
    const p = medianStats(peer);
    return {
      benchmark: 'record',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}` },
      config: {
        seconds,
        repeats,
        streams,
        jpeg: { width, height, distinct_frames: distinct, mean_bytes: Math.round(frames.reduce((a, f) => a + f.data.length, 0) / distinct) },
        messages: samples.length,
        payload_mb: payload / 1e6,
      },
      ours: { ...o, name: 'senseact LogWriter: zod, MCAP chunks, zstd, fsync per chunk', runs: ours },
      ours_uncompressed: { ...medianStats(plain), runs: plain },
      peer: { ...p, name: 'JSON lines, one fs.writeSync per message', runs: peer },
      ratio: {
        messages_per_s: o.messages_per_s / p.messages_per_s,
        cpu_s_per_recorded_s: p.cpu_s_per_recorded_s / o.cpu_s_per_recorded_s,
        file_size: p.file_mb / o.file_mb,
      },
      goal: { cpu_s_per_recorded_s: 0.15, met: o.cpu_s_per_recorded_s <= 0.15 },
      realtime,
    };
  } finally {
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRecordBench(r: RecordBenchResult): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  return [
    `bench record: ${r.config.seconds} s of camera 30 Hz (${r.config.jpeg.width}x${r.config.jpeg.height} JPEG, ~${Math.round(r.config.jpeg.mean_bytes / 1024)} KiB), 2x tactile 100 Hz, smell 2 Hz, proprio 100 Hz = ${r.config.messages} messages; median of ${r.config.repeats}`,
    `  ${'metric'.padEnd(26)}${'senseact (MCAP+zstd)'.padStart(22)}${'peer (JSON lines)'.padStart(20)}${'ratio'.padStart(9)}`,
    `  ${'messages/s'.padEnd(26)}${f(r.ours.messages_per_s, 0).padStart(22)}${f(r.peer.messages_per_s, 0).padStart(20)}${(f(r.ratio.messages_per_s) + 'x').padStart(9)}`,
    `  ${'MB/s written'.padEnd(26)}${f(r.ours.mb_per_s, 1).padStart(22)}${f(r.peer.mb_per_s, 1).padStart(20)}`,
    `  ${'file size, MB'.padEnd(26)}${f(r.ours.file_mb, 1).padStart(22)}${f(r.peer.file_mb, 1).padStart(20)}${(f(r.ratio.file_size) + 'x').padStart(9)}`,
    `  ${'CPU s per recorded s'.padEnd(26)}${f(r.ours.cpu_s_per_recorded_s, 4).padStart(22)}${f(r.peer.cpu_s_per_recorded_s, 4).padStart(20)}${(f(r.ratio.cpu_s_per_recorded_s) + 'x').padStart(9)}`,
    `  without compression, ours: ${f(r.ours_uncompressed.cpu_s_per_recorded_s, 4)} CPU s per recorded s, ${f(r.ours_uncompressed.file_mb, 1)} MB, ${f(r.ours_uncompressed.messages_per_s, 0)} messages/s`,
    `  goal ≤ ${r.goal.cpu_s_per_recorded_s} CPU s per recorded s: ${r.goal.met ? 'met' : 'NOT met'}`,
    `  real time, ${r.realtime.seconds} s: ${r.realtime.generated} generated, ${r.realtime.recorded} recorded, ${r.realtime.drops} dropped; write p99 ${f(r.realtime.p99_write_ms)} ms, max ${f(r.realtime.max_write_ms)} ms; ${f(r.realtime.cpu_s_per_recorded_s, 4)} CPU s per s (of which the timer-driven sample driver alone: ${f(r.realtime.driver_only_cpu_s_per_s, 4)})`,
    `  machine: ${r.machine.cpu_model} x${r.machine.cpus}, ${r.machine.platform}, node ${r.machine.node}`,
  ].join('\n');
}
