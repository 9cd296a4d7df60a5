// A real writer process is killed with SIGKILL mid-recording; `senseact
// dataset repair` must recover every message captured more than one second
// before the kill, into a file @mcap/core's indexed reader accepts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zstd from '@foxglove/wasm-zstd';
import { McapIndexedReader } from '@mcap/core';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticMix, systemClock } from '../../sensors/index.ts';
import { ROOT, senseact } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety', () => {
  it('SIGKILL mid-recording loses nothing captured more than 1 s before the kill', async () => {
    const file = path.join(dir, 'episode.mcap');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/sensors/fixtures/crash-writer.ts'), file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const t0 = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n')[0];
        if (out.includes('\n')) resolve(JSON.parse(line).t0_ns);
      });
      void exited.then(() => reject(new Error(`writer exited early: ${stderr}`)));
    });

    // Let it record for about 3.5 s of real time, then kill it without warning.
    while (systemClock.nowNs() < t0 + 3.5e9) await sleep(20);
    expect(fs.existsSync(file + '.partial')).toBe(true);
    const killNs = systemClock.nowNs();
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(fs.existsSync(file)).toBe(false);

    const run = senseact(['dataset', 'repair', file + '.partial', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.out).toBe(file);
    expect(report.lost.unflushed_at_most_s).toBe(0.5);

    // Read the repaired log with @mcap/core's own indexed reader.
    await zstd.isLoaded;
    const bytes = fs.readFileSync(file);
    const reader = await McapIndexedReader.Initialize({
      readable: { size: async () => BigInt(bytes.length), read: async (o, s) => bytes.subarray(Number(o), Number(o + s)) },
      decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) },
    });
    const seqs = new Map<string, number[]>();
    for await (const m of reader.readMessages()) {
      const topic = reader.channelsById.get(m.channelId)!.topic;
      if (!seqs.has(topic)) seqs.set(topic, []);
      seqs.get(topic)!.push(m.sequence);
    }
    expect(report.recovered.messages).toBe([...seqs.values()].reduce((a, l) => a + l.length, 0));

    // Every sample the writer captured up to kill − 1 s, per stream, by seq.
    const mustHave = new Map<string, number>();
    for (const s of syntheticMix({ t0_ns: t0, latency_ns: 0 }, 10)) {
      if (s.t_capture_ns > killNs - 1e9) break;
      mustHave.set(s.stream, s.seq + 1);
    }
    expect([...mustHave.keys()].sort()).toEqual(['camera/wrist', 'proprio', 'smell', 'tactile/left', 'tactile/right']);
    for (const [stream, count] of mustHave) {
      const got = new Set(seqs.get(stream) ?? []);
      const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !got.has(i));
      expect(missing, `${stream}: ${count} captured more than 1 s before the kill`).toEqual([]);
      // Nothing duplicated, nothing invented.
      expect(got.size).toBe(seqs.get(stream)!.length);
    }
    expect(mustHave.get('tactile/left')).toBeGreaterThan(200);
  }, 60_000);
});
