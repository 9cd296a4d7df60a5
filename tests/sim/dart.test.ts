// Demonstration noise is a disturbance the world applies, not part of the
// label: the recorded action is the expert's command (its correction), the
// robot moves with command + drift (DART). A policy trained on commands that
// included the drift would be taught to imitate noise it cannot observe.
import { describe, expect, it } from 'vitest';
import { SimEnv, makeDriver, type ActionData } from '../../sim/index.ts';

describe('demonstration noise (DART)', () => {
  it('records the expert command while the robot moves with the drift on top', async () => {
    const env = new SimEnv({ task: 'pick-place' });
    try {
      await env.reset(3);
      const d = makeDriver(env, 'full');
      const recorded: ActionData[] = [];
      const commanded: number[][] = [];
      let drift = 0;
      const tool: number[][] = [];
      for (let i = 0; i < 60; i++) {
        const a = d.act(env);
        commanded.push([...a.linear]);
        const push = d.disturbance!();
        drift = Math.max(drift, Math.hypot(push[0], push[1]));
        for (const s of await env.step(a, push)) if (s.stream === 'action') recorded.push(s.data as ActionData);
        const t = env.robot.toolPoint();
        tool.push([t.x, t.y, t.z]);
      }
      expect(recorded).toHaveLength(60);
      // The label is the command exactly, without the drift.
      for (let i = 0; i < 60; i++) for (let j = 0; j < 3; j++) expect(recorded[i].linear[j]).toBeCloseTo(commanded[i][j], 12);
      expect(drift).toBeGreaterThan(0.005);

      // Replaying the labels without the drift takes the robot elsewhere: the drift did move it.
      await env.reset(3);
      let apart = 0;
      for (let i = 0; i < 60; i++) {
        await env.step({ linear: [...recorded[i].linear] as [number, number, number], angular: [...recorded[i].angular] as [number, number, number], gripper: recorded[i].gripper });
        const t = env.robot.toolPoint();
        apart = Math.max(apart, Math.hypot(t.x - tool[i][0], t.y - tool[i][1]));
      }
      expect(apart).toBeGreaterThan(0.002);
    } finally {
      env.close();
    }
  }, 60_000);
});
