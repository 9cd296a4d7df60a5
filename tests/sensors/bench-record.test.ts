import { describe, expect, it } from 'vitest';
import { meaningfulLines, senseact } from '../helpers/cli.ts';

describe('senseact bench', () => {
  it('record --quick --json measures ours and the JSON-lines peer in one run, with no drops at real-time rate', () => {
    const run = senseact(['bench', 'record', '--quick', '--json'], {}, 120_000);
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.benchmark).toBe('record');
    expect(r.config).toMatchObject({ seconds: 5, jpeg: { width: 640, height: 480, distinct_frames: 16 } });
    // 5 s of camera 30 Hz + 2 pads at 100 Hz + smell 2 Hz + proprio 100 Hz.
    expect(r.config.messages).toBe(150 + 500 + 500 + 10 + 500);
    for (const side of [r.ours, r.peer, r.ours_uncompressed]) {
      expect(side.messages).toBe(r.config.messages);
      expect(side.messages_per_s).toBeGreaterThan(0);
      expect(side.mb_per_s).toBeGreaterThan(0);
      expect(side.cpu_s_per_recorded_s).toBeGreaterThan(0);
    }
    expect(r.peer.name).toMatch(/JSON lines/);
    expect(r.ratio.messages_per_s).toBeCloseTo(r.ours.messages_per_s / r.peer.messages_per_s, 9);
    expect(r.ratio.cpu_s_per_recorded_s).toBeCloseTo(r.peer.cpu_s_per_recorded_s / r.ours.cpu_s_per_recorded_s, 9);
    // zstd chunks are smaller than base64 JSON lines of the same data.
    expect(r.ours.file_mb).toBeLessThan(r.peer.file_mb);
    expect(r.goal).toMatchObject({ cpu_s_per_recorded_s: 0.15, met: r.ours.cpu_s_per_recorded_s <= 0.15 });
    expect(r.realtime.generated).toBe(Math.round(r.realtime.generated));
    expect(r.realtime.recorded).toBe(r.realtime.generated);
    expect(r.realtime.drops).toBe(0);
    expect(r.machine.cpus).toBeGreaterThan(0);
  }, 120_000);

  it('an unknown benchmark exits 2 and names the ones that exist', () => {
    const u = senseact(['bench', 'frobnicate']);
    expect(u.status).toBe(2);
    expect(meaningfulLines(u.stderr)).toEqual(["senseact: unknown benchmark 'frobnicate' (one of: kernels, train, infer, record, sim, loop)"]);
  });
});
