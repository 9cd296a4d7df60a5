// The carry's goal (Task.goal): pick-place's plate and find-smell's bin put
// where their layouts could have drawn them, for rendered views of a
// demonstration (sim/shifts.ts). Every move keeps the layout's own rules, and
// restore puts the goal back exactly.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { withEnv } from './helpers.ts';

const at = (b: { translation(): { x: number; y: number; z: number } }) => ({ ...b.translation() });

describe('a task\'s carry goal', () => {
  it('pick-place: the plate moves anywhere its layout draws it, never within 22 cm of the mug, and back', async () => {
    await withEnv('pick-place', async (env) => {
      await env.reset(3001);
      // The layout a seed draws is unchanged by the goal's draw living beside it (seed 3001, as evaluated before).
      const info = env.info() as Record<string, number>;
      expect([info.mug_x, info.mug_y, info.plate_x, info.plate_y].map((v) => Math.round(v * 100) / 100)).toEqual([0.79, 0.19, 0.72, -0.18]);
      const plate = env.sim.things.find((t) => t.name === 'plate')!.body;
      const start = at(plate);
      const mug = { x: info.mug_x, y: info.mug_y };
      const ys: number[] = [];
      for (let k = 0; k < 200; k++) {
        const d = env.task.goal!.move(new Rng(k, 29));
        const p = at(plate);
        expect(p.x - start.x).toBeCloseTo(d.x, 4);
        expect(p.y - start.y).toBeCloseTo(d.y, 4);
        expect(p.z).toBeCloseTo(start.z, 6);
        expect(p.x).toBeGreaterThanOrEqual(0.7);
        expect(p.x).toBeLessThanOrEqual(0.85);
        expect(Math.abs(p.y)).toBeLessThanOrEqual(0.3);
        expect(Math.hypot(p.x - mug.x, p.y - mug.y)).toBeGreaterThanOrEqual(0.22);
        ys.push(p.y);
        env.task.goal!.restore();
        expect(at(plate)).toEqual(start);
      }
      // Across the counter, not near where it stood: a carry is shown heading for many places.
      expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(0.25);
    });
  });

  it('find-smell: the bin moves as one, floor and walls, within its layout range', async () => {
    await withEnv('find-smell', async (env) => {
      await env.reset(0);
      const parts = env.sim.things.filter((t) => t.name.startsWith('bin-')).map((t) => t.body);
      expect(parts.length).toBe(5);
      const start = parts.map(at);
      const floor = start[0];
      const centre = { x: (env.task.landmarks!().find((l) => l.name === 'bin')!).x, y: env.task.landmarks!().find((l) => l.name === 'bin')!.y };
      expect(floor.x).toBeCloseTo(centre.x, 6);
      for (let k = 0; k < 50; k++) {
        const d = env.task.goal!.move(new Rng(k, 29));
        parts.forEach((b, i) => {
          expect(at(b).x - start[i].x).toBeCloseTo(d.x, 4);
          expect(at(b).y - start[i].y).toBeCloseTo(d.y, 4);
        });
        const x = centre.x + d.x;
        const y = centre.y + d.y;
        expect(x).toBeGreaterThanOrEqual(0.98);
        expect(x).toBeLessThanOrEqual(1.02);
        expect(Math.abs(y)).toBeLessThanOrEqual(0.2);
        env.task.goal!.restore();
        expect(parts.map(at)).toEqual(start);
      }
    });
  });

  it('gentle-grasp and open-door have no carry goal', async () => {
    for (const task of ['gentle-grasp', 'open-door'] as const) {
      await withEnv(task, async (env) => {
        await env.reset(0);
        expect(env.task.goal).toBeUndefined();
      });
    }
  });
});
