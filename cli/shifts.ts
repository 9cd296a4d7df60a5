// The simulator as the renderer of train's rendered view shifts (augment.rendered_shift):
// each request's episode is a log the simulator recorded, whose task and seed redraw its scene.
import type { ShiftRender, ShiftRenderer } from '../policy/index.ts';
import { decodeImage, resizeRgb } from '../sensors/index.ts';
import { NoRelayout, TASK_NAMES, createNodeCamera, renderShifted, type ShiftRequest } from '../sim/index.ts';
import { CliError } from './errors.ts';

export const simShiftRenderer: ShiftRenderer = async function* (requests: ShiftRender[], image: { width: number; height: number }) {
  const camera = await createNodeCamera();
  try {
    for (let start = 0; start < requests.length; ) {
      const { scene } = requests[start];
      let end = start;
      while (end < requests.length && requests[end].scene === scene) end++;
      const task = TASK_NAMES.find((t) => t === scene.task);
      if (!task || scene.seed === null) throw new CliError(`augment.rendered_shift: ${scene.file} names no simulator task and seed to render its scene from (record it with \`senseact sim run\`)`, 2);
      try {
        for await (const { data, moved } of renderShifted(task, camera, scene.seed, requests.slice(start, end).map(toSim))) yield { image: resizeRgb(decodeImage(data), image.width, image.height), moved };
      } catch (err) {
        if (err instanceof NoRelayout) throw new CliError(`augment.rendered_shift.relayout: ${err.message}`, 2);
        throw err;
      }
      start = end;
    }
  } finally {
    camera.dispose();
  }
};

function toSim(r: ShiftRender): ShiftRequest {
  const j = (name: string) => {
    const v = r.joints[name];
    if (v === undefined) throw new CliError(`augment.rendered_shift: the dataset's proprio has no position.${name}, which the simulator's robot needs`, 2);
    return v;
  };
  return {
    q: { baseX: j('base_x'), baseY: j('base_y'), baseYaw: j('base_yaw'), lift: j('lift'), arm: j('arm'), wristYaw: j('wrist_yaw') },
    fingers: [j('finger_left'), j('finger_right')],
    shift: r.shift,
    grasp: r.grasp,
    relayout: r.relayout,
  };
}
