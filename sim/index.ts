// sim/: the three.js + Rapier home scene, robot, tasks, simulated sensors,
// experts, env and rosbridge-protocol server. Built in issue #5; nothing is exported yet.
export {};
