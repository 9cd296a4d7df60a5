// Sensor realism on the real physics: taxels, e-nose dynamics, native rates,
// and bit-exact determinism of the env for a seed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SimEnv, runEpisode, zeroAction, type Sample, type SmellData, type TactileData } from '../../sim/index.ts';
import { twistToward } from '../../sim/expert.ts';

const normalSum = (d: TactileData) => {
  let s = 0;
  for (let k = 2; k < d.forces.length; k += 3) s += d.forces[k];
  return s;
};

function digest(samples: Sample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    h.update(JSON.stringify(s, (_k, v) => (v instanceof Float32Array || v instanceof Uint8Array ? Array.from(v) : v)));
  }
  return h.digest('hex');
}

describe('touch', () => {
  it('taxel forces are ~0 in free air and rise when the gripper closes on the cup', async () => {
    const env = new SimEnv({ task: 'gentle-grasp' });
    const left: TactileData[] = [];
    const res = await runEpisode(env, 0, 'full', (ss) => {
      for (const s of ss) if (s.stream === 'tactile/left') left.push(s.data as TactileData);
    });
    env.close();
    expect(res.success).toBe(true);
    expect(left[0].rows * left[0].cols * 3).toBe(left[0].forces.length);
    // The first second: the gripper moves in free air.
    const freeAir = left.slice(0, 100).flatMap((d) => Array.from(d.forces));
    expect(Math.max(...freeAir.map(Math.abs))).toBeLessThan(0.08);
    const peak = Math.max(...left.map(normalSum));
    expect(peak).toBeGreaterThan(0.8);
    // While the cup hangs in the grip, the pads feel its weight as downward shear.
    const last = left[left.length - 1];
    let shearUp = 0;
    for (let k = 1; k < last.forces.length; k += 3) shearUp += last.forces[k];
    expect(shearUp).toBeLessThan(-0.05);
  });
});

describe('e-nose', () => {
  it('rises with a lag near the odour source and decays more slowly after leaving', async () => {
    const env = new SimEnv({ task: 'find-smell' });
    await env.reset(4);
    const target = env.task.info(env).target_jar as number;
    const jar = env.sim.things.find((t) => t.name === `jar-${target}`)!.body.translation();
    const a = zeroAction();
    const readings: { t: number; index: number }[] = [];
    let baseline: number[] | null = null;
    const record = (ss: Sample[]) => {
      for (const s of ss) {
        if (s.stream !== 'smell') continue;
        const v = (s.data as SmellData).values;
        baseline ??= [...v];
        readings.push({ t: s.t_capture_ns / 1e9, index: v.reduce((acc, r, k) => acc + baseline![k] / r - 1, 0) / v.length });
      }
    };
    const drive = async (x: number, y: number, z: number, seconds: number) => {
      const end = env.tick + seconds * 20;
      while (env.tick < end) {
        twistToward(env, { x, y, z, yaw: 0 }, a);
        record(await env.step(a));
      }
    };
    const high = 1.15;
    await drive(jar.x, jar.y, high + 0.1, 3); // above the jar but far from the lid
    await drive(jar.x, jar.y, 1.08, 0.6); // down to sniffing height
    const arrive = env.timeNs / 1e9;
    await drive(jar.x, jar.y, 1.08, 5);
    const leave = env.timeNs / 1e9;
    await drive(jar.x - 0.2, jar.y, high + 0.15, 8);
    env.close();
    const at = (t: number) => readings.filter((r) => r.t <= t + 1e-9).pop()!.index;
    const before = at(arrive - 0.1);
    const peak = at(leave);
    expect(peak - before).toBeGreaterThan(0.1);
    // Lag: half a second after arriving the reading has covered well under the full rise.
    expect(at(arrive + 0.5) - before).toBeLessThan(0.6 * (peak - before));
    // Recovery: a second after leaving most of the response remains; eight seconds later most is gone.
    expect(at(leave + 1) - before).toBeGreaterThan(0.5 * (peak - before));
    expect(at(leave + 8) - before).toBeLessThan(0.5 * (peak - before));
  });
});

describe('env', () => {
  it('emits each stream at its native rate on the sim clock', async () => {
    const env = new SimEnv({ task: 'pick-place' });
    const all: Sample[] = [...(await env.reset(1))];
    for (let i = 0; i < 100; i++) all.push(...(await env.step(zeroAction())));
    env.close();
    const by = (s: string) => all.filter((x) => x.stream === s);
    // 5 s of sim time, plus the sample at t = 0.
    expect(by('proprio')).toHaveLength(501);
    expect(by('tactile/left')).toHaveLength(501);
    expect(by('tactile/right')).toHaveLength(501);
    expect(by('smell')).toHaveLength(11);
    expect(by('action')).toHaveLength(100);
    for (const stream of ['proprio', 'smell', 'tactile/left']) {
      const s = by(stream);
      s.forEach((x, i) => expect(x.seq).toBe(i));
      for (let i = 1; i < s.length; i++) expect(s[i].t_capture_ns).toBeGreaterThan(s[i - 1].t_capture_ns);
      for (const x of s) expect(x.t_receive_ns).toBeGreaterThanOrEqual(x.t_capture_ns);
    }
    const smell = by('smell')[3].data as SmellData;
    expect(smell.channels.length).toBeGreaterThanOrEqual(4);
    expect(smell.channels.length).toBeLessThanOrEqual(8);
    expect(smell.warmed_up).toBe(true);
  });

  it('a cold e-nose reports warming up and reads high until it is warm', async () => {
    const env = new SimEnv({ task: 'pick-place', enoseStartAgeS: 0 });
    const smell: SmellData[] = [];
    for (const s of await env.reset(2)) if (s.stream === 'smell') smell.push(s.data as SmellData);
    for (let i = 0; i < 25 * 20; i++) for (const s of await env.step(zeroAction())) if (s.stream === 'smell') smell.push(s.data as SmellData);
    env.close();
    expect(smell[0].warmed_up).toBe(false);
    expect(smell[smell.length - 1].warmed_up).toBe(true);
    expect(smell[0].values[0]).toBeGreaterThan(1.5 * smell[smell.length - 1].values[0]);
  });

  it('the same seed gives the same episode, bit for bit; another seed differs', async () => {
    const run = async (seed: number) => {
      const env = new SimEnv({ task: 'pick-place' });
      const samples: Sample[] = [];
      const res = await runEpisode(env, seed, 'full', (ss) => void samples.push(...ss));
      env.close();
      return { res, hash: digest(samples) };
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(a.res.success).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.res.ticks).toBe(b.res.ticks);
    expect(c.hash).not.toBe(a.hash);
  });

  it('info() and success() describe the episode', async () => {
    const env = new SimEnv({ task: 'open-door' });
    const res = await runEpisode(env, 5, 'full');
    const info = env.info();
    env.close();
    expect(res.success).toBe(env.success());
    expect(info).toMatchObject({ task: 'open-door', seed: 5, success: true, done: true, failure: null });
    expect(info.door_angle as number).toBeGreaterThan(Math.PI / 3);
  });
});
