// The action the robot takes at each control tick: an end-effector twist in
// the base frame plus the gripper (0 open … 1 closed), as in ARCHITECTURE.md.
// Only linear x/y/z and angular z are actuated (the gripper points down; the
// wrist has yaw only); angular x/y are accepted and ignored.

export interface SimAction {
  linear: [number, number, number];
  angular: [number, number, number];
  gripper: number;
}

export function zeroAction(): SimAction {
  return { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };
}
