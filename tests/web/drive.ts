// Drives the robot behind a rosbridge server from the test, with published
// twists: a proportional controller on the tool point, read back from
// /joint_states (the simulator's telescoping-arm kinematics).
import * as ROSLIB from 'roslib';

export interface Joints {
  baseX: number;
  baseY: number;
  baseYaw: number;
  lift: number;
  arm: number;
  wristYaw: number;
}

const ARM_ROOT = 0.15;

export function toolPoint(j: Joints): { x: number; y: number; z: number } {
  const r = ARM_ROOT + j.arm;
  return { x: j.baseX + Math.cos(j.baseYaw) * r, y: j.baseY + Math.sin(j.baseYaw) * r, z: j.lift };
}

export class Driver {
  readonly ros: ROSLIB.Ros;
  joints: Joints | null = null;
  /** Date.now() of the last /joint_states message. */
  lastMs = 0;
  private twist!: ROSLIB.Topic<unknown>;
  private gripper!: ROSLIB.Topic<unknown>;
  private states!: ROSLIB.Topic<{ name: string[]; position: number[] }>;

  private constructor(url: string) {
    this.ros = new ROSLIB.Ros({});
    this.ros.on('error', () => {});
    void this.ros.connect(url).catch(() => {});
  }

  static async connect(url: string): Promise<Driver> {
    const d = new Driver(url);
    const t0 = Date.now();
    while (!d.ros.isConnected) {
      if (Date.now() - t0 > 10_000) throw new Error(`cannot connect to ${url}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    d.twist = new ROSLIB.Topic({ ros: d.ros, name: '/senseact/cmd_twist', messageType: 'geometry_msgs/TwistStamped' });
    d.gripper = new ROSLIB.Topic({ ros: d.ros, name: '/senseact/gripper', messageType: 'std_msgs/Float32' });
    d.states = new ROSLIB.Topic({ ros: d.ros, name: '/joint_states', messageType: 'sensor_msgs/JointState' });
    d.states.subscribe((m) => {
      d.lastMs = Date.now();
      const at = (n: string) => m.position[m.name.indexOf(n)];
      d.joints = { baseX: at('base_x'), baseY: at('base_y'), baseYaw: at('base_yaw'), lift: at('lift'), arm: at('arm'), wristYaw: at('wrist_yaw') };
    });
    while (!d.joints) {
      if (Date.now() - t0 > 10_000) throw new Error('no /joint_states');
      await new Promise((r) => setTimeout(r, 20));
    }
    return d;
  }

  send(linear: [number, number, number], yaw = 0): void {
    this.twist.publish({ twist: { linear: { x: linear[0], y: linear[1], z: linear[2] }, angular: { x: 0, y: 0, z: yaw } } });
  }

  setGripper(g: number): void {
    this.gripper.publish({ data: g });
  }

  /** Moves the tool point to (x, y, z) in the world frame; resolves with the final distance. */
  async moveTo(target: { x: number; y: number; z: number }, tolerance = 0.01, timeoutMs = 15_000, vmax = 0.2): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const j = this.joints!;
      const t = toolPoint(j);
      const e = [target.x - t.x, target.y - t.y, target.z - t.z];
      const dist = Math.hypot(e[0], e[1], e[2]);
      if (dist < tolerance || Date.now() - t0 > timeoutMs) {
        this.send([0, 0, 0]);
        return dist;
      }
      const scale = dist * 3 > vmax ? vmax / dist : 3;
      const c = Math.cos(j.baseYaw);
      const s = Math.sin(j.baseYaw);
      this.send([(c * e[0] + s * e[1]) * scale, (-s * e[0] + c * e[1]) * scale, e[2] * scale]);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once joint states have kept arriving (no gap over 100 ms) for `forMs`: the robot is live. */
  async live(forMs = 500, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    let since = Date.now();
    while (Date.now() - since < forMs) {
      if (Date.now() - t0 > timeoutMs) throw new Error('joint states did not resume');
      if (Date.now() - this.lastMs > 100) since = Date.now();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.ros.close();
  }
}
