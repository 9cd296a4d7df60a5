// Which streams teleop subscribes to on a rosbridge robot: every default
// stream, the cameras unless --no-camera, and the fixed scene camera only
// with --scene-camera (most robots, and `sim serve` by default, have none, and
// a stream that never comes warns on every saved episode).
import { describe, expect, it } from 'vitest';
import { rosbridgeTeleopRobot } from '../../cli/ui.ts';

const streams = async (opts: { camera: boolean; sceneCamera?: boolean }) => {
  const robot = await rosbridgeTeleopRobot('ws://127.0.0.1:1', { ...opts, serviceTimeoutS: 1 });
  try {
    return [...robot.streams].sort();
  } finally {
    await robot.close();
  }
};

describe('teleop over rosbridge: streams', () => {
  it('the wrist camera by default, the scene camera only when asked for, no camera with --no-camera', async () => {
    const base = ['action', 'proprio', 'smell', 'tactile/left', 'tactile/right'];
    expect(await streams({ camera: true })).toEqual([...base, 'camera/wrist'].sort());
    expect(await streams({ camera: true, sceneCamera: true })).toEqual([...base, 'camera/scene', 'camera/wrist'].sort());
    expect(await streams({ camera: false })).toEqual(base);
  });
});
