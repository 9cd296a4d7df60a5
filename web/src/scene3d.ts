// The 3D view: the simulator's own scene code (sim/browser.ts: the world built
// for the task and seed, meshes from buildScene) rendered with three's
// WebGPURenderer (the browser's WebGPU, or three's WebGL2 fallback), with the
// robot posed from /joint_states. Objects stay where the task put them at
// reset: the page does not step physics, so an object the robot carries is
// drawn where it started. Without a task (a real robot) only the robot model
// is shown. Loaded lazily, so the other panels never wait for it.
import * as THREE from 'three/webgpu';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { SimEnv, TASK_NAMES, buildScene, type SceneView, type TaskName } from '../../sim/browser.ts';

export interface JointStateMsg {
  name: string[];
  position: number[];
}

/** The simulator's fixed kitchen (sim/world.ts), drawn even when the task's layout is unknown. */
const KITCHEN = new Set(['floor', 'counter', 'counter-body', 'wall']);

const JOINTS = { base_x: 'baseX', base_y: 'baseY', base_yaw: 'baseYaw', lift: 'lift', arm: 'arm', wrist_yaw: 'wristYaw' } as const;

export class Scene3D {
  private env: SimEnv | null = null;
  private view: SceneView | null = null;
  private readonly camera: THREE.PerspectiveCamera;
  private readonly controls: OrbitControls;
  private pending = false;
  private lastJoints: JointStateMsg | null = null;
  private building: Promise<void> = Promise.resolve();
  key = '';

  private constructor(
    private readonly renderer: THREE.WebGPURenderer,
    private readonly canvas: HTMLCanvasElement,
  ) {
    this.camera = new THREE.PerspectiveCamera(45, canvas.clientWidth / Math.max(1, canvas.clientHeight), 0.05, 20);
    this.camera.up.set(0, 0, 1);
    this.camera.position.set(-0.75, -1.35, 1.85);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.target.set(0.65, 0, 0.95);
    this.controls.update();
    this.controls.addEventListener('change', () => this.requestRender());
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  static async create(canvas: HTMLCanvasElement): Promise<{ scene: Scene3D; backend: string }> {
    const renderer = new THREE.WebGPURenderer({ canvas, antialias: true });
    await renderer.init();
    renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    const s = new Scene3D(renderer, canvas);
    s.resize();
    const backend = (renderer.backend as { isWebGPUBackend?: boolean }).isWebGPUBackend ? 'WebGPU' : 'WebGL2';
    return { scene: s, backend };
  }

  private resize(): void {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  /**
   * Builds the world of `task` at `seed`. With no seed (the robot does not say which world it
   * runs) the task's objects are left out; with a task the simulator does not know (a real
   * robot) only the robot model is drawn.
   */
  show(task: string, seed: number | null): Promise<void> {
    const known = (TASK_NAMES as readonly string[]).includes(task);
    const key = `${known ? task : '-'}:${seed}`;
    if (key === this.key) return this.building;
    this.key = key;
    this.building = this.building.then(async () => {
      const env = new SimEnv({ task: (known ? task : 'pick-place') as TaskName, camera: null });
      await env.reset(seed ?? 0);
      const view = buildScene(env.sim.things);
      const keep = (name: string) => name.startsWith('robot-') || name === 'floor' || (known && (seed !== null || KITCHEN.has(name)));
      const meshes = view.scene.children.filter((o) => (o as THREE.Mesh).isMesh);
      env.sim.things.forEach((t, i) => {
        if (!keep(t.name)) meshes[i].visible = false;
      });
      this.view?.dispose();
      this.env?.close();
      this.env = env;
      this.view = view;
      if (this.lastJoints) this.setJoints(this.lastJoints);
      this.requestRender();
    });
    return this.building;
  }

  setJoints(msg: JointStateMsg): void {
    this.lastJoints = msg;
    const env = this.env;
    if (!env) return;
    const q: Record<string, number> = {};
    let left = NaN;
    let right = NaN;
    msg.name.forEach((n, i) => {
      const p = msg.position[i];
      if (!Number.isFinite(p)) return;
      if (n in JOINTS) q[JOINTS[n as keyof typeof JOINTS]] = p;
      else if (n === 'finger_left') left = p;
      else if (n === 'finger_right') right = p;
    });
    env.robot.teleport(q, Number.isFinite(left) && Number.isFinite(right) ? [left, right] : undefined);
    this.requestRender();
  }

  private requestRender(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      if (!this.view) return;
      this.view.sync();
      this.renderer.render(this.view.scene, this.camera);
    });
  }
}
