// The sim clock as the streams see it: no capture time is zero (a zero stamp
// means "sensor clock not set" and is rejected), so a recorded episode's
// frames carry every modality from the first control tick, and training
// frames fall on the control ticks, as live frames do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../sensors/index.ts';
import { SIM_EPOCH_NS, SimEnv, recordEpisodes } from '../../sim/index.ts';

describe('sim clock', () => {
  it('stamps the first samples of an episode after zero', async () => {
    const env = new SimEnv({ task: 'pick-place' });
    const first = await env.reset(3);
    env.close();
    expect(first.length).toBeGreaterThan(0);
    for (const s of first) expect(s.t_capture_ns).toBe(SIM_EPOCH_NS);
  });

  it('a recorded episode yields unmasked tactile, smell and proprio from its first frame', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-clock-'));
    try {
      await recordEpisodes({ task: 'find-smell', driver: 'full', episodes: 1, firstSeed: 0, outDir: dir, fsync: false });
      const { examples } = await (await Dataset.open(dir)).examples({ rate_hz: 20, horizon: 0, smell_history: 4 });
      // mask order: camera (not recorded here), tactile, smell, proprio.
      expect([...examples[0].mask]).toEqual([1, 0, 0, 0]);
      expect(examples.filter((e) => e.mask[3]).length).toBe(0);
      // Frames fall on the control ticks the expert acted at (1 s + k · 50 ms), where a live controller's frames are.
      for (const e of examples.slice(0, 20)) expect((e.t_ns - SIM_EPOCH_NS) % 50_000_000).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
