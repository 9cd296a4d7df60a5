// `senseact sim run` end to end: real processes, real MCAP logs read back
// through sensors/, and byte-identical logs for the same seed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as ROSLIB from 'roslib';
import { afterAll, describe, expect, it } from 'vitest';
import { LogReader } from '../../sensors/index.ts';
import { BIN, ROOT, senseact } from '../helpers/cli.ts';
import { adapterInChild } from '../helpers/gpu.ts';

// This file spawns processes, so it never loads Dawn itself (see adapterInChild).
const gpu = await adapterInChild();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-sim-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Blanks the ISO wall-clock stamps (started_at, ended_at) so logs can be compared byte for byte. */
function maskWallClock(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('latin1').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, 'WALL-CLOCK-TIMESTAMP-XXX'), 'latin1');
}

/** Offsets where two equal-length buffers differ. */
function diffOffsets(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

describe('senseact sim run', () => {
  it('writes one MCAP log per episode with task, seed and success (with --scene-camera, the fixed camera too)', async () => {
    const out = path.join(tmp, 'run');
    const args = ['sim', 'run', '--task', 'gentle-grasp', '--expert', '--episodes', '2', '--seed', '7', '--out', out];
    args.push(gpu ? '--scene-camera' : '--no-camera');
    const run = senseact(args, {}, 120_000);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/2\/2 episodes succeeded/);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(['gentle-grasp-seed000007.mcap', 'gentle-grasp-seed000008.mcap']);
    const reader = await LogReader.open(path.join(out, files[0]));
    expect(reader.indexed).toBe(true);
    expect(reader.episode.meta).toMatchObject({ task: 'gentle-grasp', seed: 7, success: true });
    const streams = reader.channels.map((c) => c.stream).sort();
    const expected = ['action', 'proprio', 'smell', 'tactile/left', 'tactile/right'];
    if (gpu) expected.push('camera/wrist', 'camera/scene');
    expect(streams).toEqual(expected.sort());
    expect(reader.count('proprio')).toBeGreaterThan(100);
  });

  it('two runs with the same seed write byte-identical logs apart from wall-clock metadata', () => {
    const outs = ['a', 'b'].map((d) => path.join(tmp, d));
    for (const out of outs) {
      const args = ['sim', 'run', '--task', 'open-door', '--expert', '--episodes', '1', '--seed', '3', '--out', out];
      if (!gpu) args.push('--no-camera');
      const run = senseact(args, {}, 120_000);
      expect(run.status, run.stderr).toBe(0);
    }
    const [a, b] = outs.map((o) => fs.readFileSync(path.join(o, 'open-door-seed000003.mcap')));
    expect(a.length).toBe(b.length);
    const diff = diffOffsets(maskWallClock(a), maskWallClock(b));
    // What may still differ is the data-section CRC in the DataEnd record, which covers the timestamps: 4 bytes.
    expect(diff.length).toBeLessThanOrEqual(4);
    if (diff.length) expect(diff[diff.length - 1] - diff[0]).toBeLessThan(4);
  });

  it('rejects a bad flag with one line and exit code 2', () => {
    const run = senseact(['sim', 'run', '--task', 'juggle', '--expert', '--out', path.join(tmp, 'x')]);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning'))).toEqual([expect.stringMatching(/^senseact: --task must be one of/)]);
    const both = senseact(['sim', 'run', '--task', 'find-smell', '--expert', '--out', path.join(tmp, 'y'), '--no-camera', '--scene-camera']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--scene-camera needs the cameras: drop --no-camera/);
    expect(fs.existsSync(path.join(tmp, 'y'))).toBe(false);
  });
});

describe('senseact sim serve', () => {
  it('serves a task over rosbridge until SIGTERM, then exits cleanly', async () => {
    const child = spawn(process.execPath, [BIN, 'sim', 'serve', '--task', 'open-door', '--rosbridge', '127.0.0.1:0', '--seed', '2', '--no-camera'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no address in: ${stderr}`)), 30_000);
        child.stderr.on('data', () => {
          const m = /on (ws:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const ros = new ROSLIB.Ros({ url });
      await new Promise<void>((resolve) => ros.on('connection', () => resolve()));
      const service = new ROSLIB.Service<unknown, { task: string; done: boolean }>({ ros, name: '/senseact/task_status', serviceType: 'senseact_msgs/TaskStatus' });
      const status = await new Promise<{ task: string; done: boolean }>((resolve, reject) => service.callService({}, resolve, (e) => reject(new Error(e)), 5));
      expect(status).toMatchObject({ task: 'open-door', done: false });
      ros.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/sim serve: stopped/);
  });

  it('refuses a malformed listen address with exit code 2', () => {
    const run = senseact(['sim', 'serve', '--task', 'open-door', '--rosbridge', 'localhost']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--rosbridge must be HOST:PORT/);
  });
});
