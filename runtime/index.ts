// runtime/: Robot adapters, control loop, safety filter, health monitor,
// deployment daemon. Built in issue #8; nothing is exported yet.
export {};
