// web/: the browser app (Vite + three.js): 3D view from the simulator's own
// scene code, live camera, tactile heatmaps, smell traces, health dashboard,
// teleop (keyboard, buttons, gamepad) and episode controls. Its entry point is
// web/index.html → web/src/main.ts; `npm run build:web` (run by `npm install`)
// writes web/dist, which `senseact ui` serves. Nothing here is imported by
// other folders; the page's API types live in teleop/api.ts.
export {};
