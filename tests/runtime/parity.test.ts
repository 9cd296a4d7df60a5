// Train/run parity: a policy must see the same inputs when it runs as when it
// was trained. Drive the simulator with the demonstration's own expert (same
// seed, same drift), so the robot passes through the very same states, and compare the
// policy's predictions on the live path (sim samples → Streams → Synchronizer
// → runner, as `senseact eval` and the daemon run it) with its predictions on
// the dataset's frames of that demonstration (as training saw them). Two
// faults this catches were real: a first live frame that entered the motion
// history as "the robot at zero", and training frames off the control ticks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, observationStreams } from '../../sensors/index.ts';
import { PolicyRunner, allocFeatureBatch, encodeExample, trainPolicy } from '../../policy/index.ts';
import { attachContext } from '../../policy/context.ts';
import { toInputs } from '../../policy/network.ts';
import { noGrad, tidy } from '../../kernels/index.ts';
import { SIM_EPOCH_NS, SimEnv, makeDriver, recordEpisodes } from '../../sim/index.ts';
import { SIM_RATES, SimFeed } from '../../runtime/index.ts';

const TICK_NS = 50_000_000;
let dir: string;
let runner: PolicyRunner;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-parity-'));
  await recordEpisodes({ task: 'find-smell', driver: 'full', episodes: 1, firstSeed: 0, outDir: path.join(dir, 'demos'), fsync: false });
  // A few steps are enough: the weights only need to be fixed and not trivial; equal inputs give equal outputs.
  const out = path.join(dir, 'p.safetensors');
  await trainPolicy({ data: path.join(dir, 'demos'), out, backend: 'cpu', resume: false, config: { train: { steps: 5, val_fraction: 0 } } });
  runner = await PolicyRunner.load(out, { backend: 'cpu' });
}, 120_000);
afterAll(() => {
  runner?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('train/run parity', () => {
  it('the live path predicts what the training frames predict, tick by tick, along a demonstration', async () => {
    const { config, layout, dims, normalizer } = runner.meta;
    const dataset = await Dataset.open(path.join(dir, 'demos'));
    // The demonstration's commands as recorded, one per control tick.
    const recorded = (await dataset.episode(0)).series.get('action')!.map((s) => s.data as { linear: number[]; angular: number[]; gripper: number });
    const replay = (env: SimEnv) => {
      // The log holds the expert's commands; its drift was a disturbance on top (docs/sim.md), so the
      // states are reproduced by the same expert, seeded as when recording, and checked against the log.
      const expert = makeDriver(env, 'full');
      let tick = 0;
      return async () => {
        const a = expert.act(env);
        for (let j = 0; j < 3; j++) expect(a.linear[j], `tick ${tick}: the expert's command differs from the log`).toBeCloseTo(recorded[tick].linear[j], 9);
        tick++;
        return env.step(a, expert.disturbance?.() ?? null);
      };
    };
    const { examples } = await dataset.examples({ rate_hz: config.rate_hz, horizon: config.chunk - 1, image: config.image, smell_history: config.smell_history });
    attachContext(examples, config, layout);
    const byTick = new Map(examples.map((ex) => [Math.round((ex.t_ns - SIM_EPOCH_NS) / TICK_NS), ex]));
    const model = (runner as unknown as { model: { forward(x: unknown): { toArray(): Promise<Float32Array>; dispose(): void } } }).model;
    const backend = (runner as unknown as { created: { backend: Parameters<typeof toInputs>[3] } }).created.backend;
    const batch = allocFeatureBatch(1, config, dims);

    const names = observationStreams(layout);
    const env = new SimEnv({ task: 'find-smell' });
    const feed = new SimFeed(names, SIM_RATES, { [layout.smell.stream!]: layout.smell.history });
    feed.add(await env.reset(0));
    const step = replay(env);
    runner.reset();
    let compared = 0;
    let worst = 0;
    try {
      for (let tick = 0; tick < 120; tick++) {
        const live = await runner.predict(feed.frame(env.timeNs));
        const ex = byTick.get(tick);
        // Tick 0: nothing has been received yet on the live path (transport latency); training has no frame there.
        if (tick > 0) {
          expect(ex, `no training frame at tick ${tick}`).toBeDefined();
          encodeExample(ex!, 0, batch, config, normalizer, dims, null);
          const out = noGrad(() => tidy(() => model.forward(toInputs(batch, config, dims, backend))));
          const trained = await out.toArray();
          out.dispose();
          for (let j = 0; j < trained.length; j++) worst = Math.max(worst, Math.abs(trained[j] * normalizer.action.std[j % 7] + normalizer.action.mean[j % 7] - live[j]));
          compared++;
        }
        feed.add(await step());
      }
    } finally {
      env.close();
    }
    expect(compared).toBe(119);
    // Same states, same inputs: the predictions agree to float precision (m/s, rad/s, gripper).
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);

  it('a blind first tick holds still and leaves nothing in the chunks the next ticks blend', async () => {
    const { config, layout, dims, normalizer } = runner.meta;
    const dataset = await Dataset.open(path.join(dir, 'demos'));
    const { examples } = await dataset.examples({ rate_hz: config.rate_hz, horizon: config.chunk - 1, image: config.image, smell_history: config.smell_history });
    attachContext(examples, config, layout);
    const first = examples.find((ex) => Math.round((ex.t_ns - SIM_EPOCH_NS) / TICK_NS) === 1)!;
    const model = (runner as unknown as { model: { forward(x: unknown): { toArray(): Promise<Float32Array>; dispose(): void } } }).model;
    const backend = (runner as unknown as { created: { backend: Parameters<typeof toInputs>[3] } }).created.backend;
    const batch = allocFeatureBatch(1, config, dims);
    encodeExample(first, 0, batch, config, normalizer, dims, null);
    const out = noGrad(() => tidy(() => model.forward(toInputs(batch, config, dims, backend))));
    const trained = await out.toArray();
    out.dispose();

    const names = observationStreams(layout);
    const env = new SimEnv({ task: 'find-smell' });
    const feed = new SimFeed(names, SIM_RATES, { [layout.smell.stream!]: layout.smell.history });
    try {
      feed.add(await env.reset(0));
      runner.reset();
      // Tick 0: transport latency means nothing has arrived; the policy never saw such a frame.
      const frame0 = feed.frame(env.timeNs);
      expect(frame0.masked.length).toBe(names.length);
      const hold = await runner.act(frame0);
      expect([...hold.linear, ...hold.angular, hold.gripper]).toEqual([0, 0, 0, 0, 0, 0, 0]);
      const expert = makeDriver(env, 'full');
      feed.add(await env.step(expert.act(env), expert.disturbance?.() ?? null));
      // Tick 1: the only chunk is this tick's own, so the action is its first row, as trained
      // (a blank-frame chunk blended in would pull it toward whatever the blind prediction was).
      const act = await runner.act(feed.frame(env.timeNs));
      const got = [...act.linear, ...act.angular];
      for (let j = 0; j < 6; j++) expect(got[j]).toBeCloseTo(trained[j] * normalizer.action.std[j] + normalizer.action.mean[j], 4);
      expect(act.gripper).toBeCloseTo(Math.min(1, Math.max(0, trained[6] * normalizer.action.std[6] + normalizer.action.mean[6])), 4);
    } finally {
      env.close();
    }
  }, 120_000);
});
