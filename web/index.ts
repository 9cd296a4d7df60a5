// web/: the browser app (3D view, live sensor panels, teleop, health
// dashboard). Built in issue #9; nothing is exported yet.
export {};
