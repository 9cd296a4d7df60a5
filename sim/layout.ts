// Fixed geometry of the kitchen and the robot, in metres, world frame z-up
// (ROS convention: x forward from the robot's start, y left, z up). Tasks
// randomize positions within ranges documented next to them.

export const PHYSICS_HZ = 100;
export const CONTROL_HZ = 20;
export const STEPS_PER_CONTROL = PHYSICS_HZ / CONTROL_HZ;
export const GRAVITY = 9.81;

/** The counter: a static slab the tasks put things on. */
export const COUNTER = {
  xMin: 0.55,
  xMax: 1.15,
  yMin: -0.8,
  yMax: 0.8,
  top: 0.9,
} as const;

/** The robot, modelled on a Stretch-like mobile manipulator with a downward gripper. */
export const ROBOT = {
  baseRadius: 0.17,
  baseHeight: 0.25,
  /** Horizontal distance from the base centre to the arm's zero-extension tool point. */
  armRoot: 0.15,
  /** Tool point = centre of the two finger pads. */
  palmAboveTool: 0.05,
  palmHalf: { x: 0.03, y: 0.075, z: 0.012 },
  /** Finger half-extents in the hand frame (x along the pad, y the closing axis, z down the finger). */
  fingerHalf: { x: 0.016, y: 0.006, z: 0.036 },
  /** Per-finger travel from the centre line to the pad face. */
  fingerOpenMax: 0.06,
  fingerMass: 0.15,
  /**
   * Link masses (kg): the turning base with its mast (the two virtual base carriages add 5 kg each:
   * a 20 kg mobile base), the lift carriage with the arm's outer sleeve, the telescoping arm, and
   * the palm with the wrist, camera, e-nose and gripper drive.
   */
  baseMass: 10,
  carriageMass: 1.0,
  armMass: 0.8,
  palmMass: 0.8,
  /** The arm bar (and the lift carriage holding it) sits this far above the tool point. */
  barAboveTool: 0.08,
  /** Where the e-nose sits relative to the tool point (on the palm). */
  noseAboveTool: 0.09,
  /** The wrist camera, on the front of the palm, looking straight down beside the fingers. */
  cameraAboveTool: 0.09,
  cameraForward: 0.08,
} as const;

/**
 * The scene camera: fixed 1.1 m over the counter top, looking straight down at the
 * workspace (x 0.53–1.19 m, y ±0.33 m at the counter), as ALOHA's top camera: it shows
 * where the hand stands among the things on the counter, which the wrist camera cannot.
 */
export const SCENE_CAMERA = { x: 0.86, y: 0, z: 2.0, fovDeg: 37 } as const;

/** A joint motor: `MotorModel.ForceBased` position + velocity motor with this force (N) or torque (N·m) limit. */
export interface MotorLimits {
  /** N or N·m the motor can exert. */
  maxForce: number;
  /** N/m or N·m/rad. */
  stiffness: number;
  /** N·s/m or N·m·s/rad. */
  damping: number;
}

/** Joint limits (position, velocity), the joint motors, and the gripper's force limit. */
export const LIMITS = {
  baseX: { min: -0.4, max: 0.3 },
  baseY: { min: -0.6, max: 0.6 },
  baseV: 0.25,
  baseYawRate: 0.8,
  lift: { min: 0.3, max: 1.45, v: 0.3 },
  arm: { min: 0.0, max: 0.85, v: 0.3 },
  wristYaw: { min: -Math.PI, max: Math.PI, v: 2.0 },
  /**
   * The arm chain's motors. Stiff position+velocity servos tracking the setpoints the twist resolves
   * to; what bounds them is the force limit: a load or obstacle beyond it stalls the joint.
   * base_x / base_y move the whole robot (~24 kg); the lift carries the carriage, arm and hand
   * (2.9 kg, 28 N) plus the payload, so it holds about 3 kg more before it sags. Gains are
   * ForceBased (N/m, N·s/m; N·m/rad for the yaw joints).
   */
  motors: {
    baseX: { maxForce: 400, stiffness: 2e5, damping: 2e4 },
    baseY: { maxForce: 400, stiffness: 2e5, damping: 2e4 },
    baseYaw: { maxForce: 80, stiffness: 2e4, damping: 2e3 },
    lift: { maxForce: 60, stiffness: 3e5, damping: 2e3 },
    arm: { maxForce: 40, stiffness: 3e5, damping: 2e3 },
    wristYaw: { maxForce: 3, stiffness: 500, damping: 20 },
  } satisfies Record<string, MotorLimits>,
  /** Newtons the finger motor can push with. */
  gripperForce: 20,
  /** N/m: finger motor position gain; squeeze ≈ stiffness × how far past contact the target is. */
  gripperStiffness: 500,
  gripperDamping: 20,
  /**
   * How far (m or rad) a joint's setpoint may run ahead of the measured joint: a blocked joint stalls
   * at its force limit instead of winding up and lunging when freed.
   */
  trackingWindow: 0.02,
  /** Lowest the fingertips may go above the counter top (a workspace limit on the setpoints). */
  counterClearance: 0.004,
} as const;
