// The simulator's cameras: the wrist camera on the palm and, on request, a
// fixed scene camera over the counter (ALOHA's top camera), which shows where
// the hand stands among the things on the counter. Both render headless with one three WebGPURenderer (Dawn in
// Node, the browser's WebGPU elsewhere) into an sRGB render target and read
// back RGB8, top row first. One renderer per env, kept across resets so
// pipelines compile once.
import * as THREE from 'three/webgpu';
import type { CameraFrame, CameraSource, SimEnv } from './env.ts';
import { ROBOT, SCENE_CAMERA } from './layout.ts';
import { buildScene, type SceneView } from './render/scene.ts';
import { STREAMS, type CameraData } from './samples.ts';
import type { Rng } from './rng.ts';

export interface CameraOptions {
  width?: number;
  height?: number;
  hz?: number;
  /** Vertical field of view in degrees. */
  fovDeg?: number;
  /** Standard deviation of per-pixel noise in 8-bit units (0 = none). */
  noise?: number;
  /** Also render the fixed scene camera (same size and rate) on `camera/scene` (default false). */
  scene?: boolean;
}

export class CameraRig implements CameraSource {
  readonly width: number;
  readonly height: number;
  readonly hz: number;
  readonly fovDeg: number;
  readonly noise: number;
  readonly scene: boolean;
  private renderer: THREE.WebGPURenderer | null = null;
  private target: THREE.RenderTarget | null = null;
  private view: SceneView | null = null;
  private readonly camera: THREE.PerspectiveCamera;
  private readonly sceneCamera: THREE.PerspectiveCamera;
  private noiseRng: Rng | null = null;

  private constructor(opts: CameraOptions) {
    this.width = opts.width ?? 96;
    this.height = opts.height ?? 96;
    this.hz = opts.hz ?? 30;
    this.fovDeg = opts.fovDeg ?? 75;
    this.noise = opts.noise ?? 0;
    this.scene = opts.scene ?? false;
    this.camera = new THREE.PerspectiveCamera(this.fovDeg, this.width / this.height, 0.02, 6);
    this.sceneCamera = new THREE.PerspectiveCamera(SCENE_CAMERA.fovDeg, this.width / this.height, 0.05, 6);
    sceneCameraPose(this.sceneCamera);
  }

  /**
   * Creates the camera and its renderer. `setup` supplies the platform's
   * WebGPU (Node: installNodeWebGpu + fakeCanvas; browser: a real canvas).
   */
  static async create(opts: CameraOptions, canvas: unknown): Promise<CameraRig> {
    const cam = new CameraRig(opts);
    const renderer = new THREE.WebGPURenderer({ canvas: canvas as HTMLCanvasElement, antialias: false });
    await renderer.init();
    renderer.setPixelRatio(1);
    renderer.setSize(cam.width, cam.height, false);
    cam.renderer = renderer;
    // An sRGB target: the hardware encodes the shader's linear colour on write, so the bytes read back are sRGB.
    const target = new THREE.RenderTarget(cam.width, cam.height, { depthBuffer: true });
    target.texture.colorSpace = THREE.SRGBColorSpace;
    cam.target = target;
    return cam;
  }

  /** A pinhole with square pixels and the principal point at the centre, for a lens of `fovDeg` (vertical) at this image size. */
  intrinsics(fovDeg = this.fovDeg): CameraData['intrinsics'] {
    const fy = this.height / 2 / Math.tan((fovDeg * Math.PI) / 360);
    return { fx: fy, fy, cx: this.width / 2, cy: this.height / 2 };
  }

  async attach(env: SimEnv): Promise<void> {
    this.view?.dispose();
    this.view = buildScene(env.sim.things);
    this.noiseRng = env.cameraNoiseRng();
    // Compile every pipeline now: otherwise three compiles them asynchronously and skips
    // objects whose pipeline is not ready yet, so early frames would depend on machine load.
    wristCameraPose(this.camera, env.robot.toolPoint(), env.robot.handYaw());
    this.renderer!.setRenderTarget(this.target);
    await this.renderer!.compileAsync(this.view.scene, this.camera);
    this.renderer!.setRenderTarget(null);
  }

  /** The wrist camera's frame, then the scene camera's (when on), of the same instant. */
  async render(env: SimEnv): Promise<CameraFrame[]> {
    const view = this.view!;
    view.sync();
    wristCameraPose(this.camera, env.robot.toolPoint(), env.robot.handYaw());
    const frames: CameraFrame[] = [{ stream: STREAMS.camera, data: await this.renderScene(view.scene, this.camera) }];
    if (this.scene) frames.push({ stream: STREAMS.sceneCamera, data: await this.renderScene(view.scene, this.sceneCamera, 'scene_camera', SCENE_CAMERA.fovDeg) });
    return frames;
  }

  /** Renders any scene through this camera's renderer and sRGB target; returns RGB8, top row first. */
  async renderScene(scene: THREE.Scene, camera: THREE.Camera, frameId = 'wrist_camera', fovDeg = this.fovDeg): Promise<CameraData> {
    const renderer = this.renderer!;
    renderer.setRenderTarget(this.target);
    renderer.render(scene, camera);
    renderer.setRenderTarget(null);
    const rgba = (await renderer.readRenderTargetPixelsAsync(this.target!, 0, 0, this.width, this.height)) as Uint8Array;
    return { encoding: 'rgb8', width: this.width, height: this.height, frame_id: frameId, data: this.toRgb(rgba), intrinsics: this.intrinsics(fovDeg) };
  }

  private toRgb(rgba: Uint8Array): Uint8Array {
    const { width: w, height: h } = this;
    const rowBytes = rgba.length / h; // rows may be padded
    const out = new Uint8Array(w * h * 3);
    const rng = this.noise > 0 ? this.noiseRng : null;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * rowBytes + x * 4;
        const o = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) {
          let v = rgba[i + c];
          if (rng) v = Math.max(0, Math.min(255, Math.round(v + this.noise * rng.normal())));
          out[o + c] = v;
        }
      }
    }
    return out;
  }

  dispose(): void {
    this.view?.dispose();
    this.target?.dispose();
    this.renderer?.dispose();
    this.view = null;
    this.target = null;
    this.renderer = null;
  }
}

/**
 * Poses a camera as the wrist camera of a tool at `tool` with hand yaw `yaw`: on the front of the
 * palm, looking straight down (the fingers show at the image's bottom edge, the arm stays out of
 * view); image up is the hand's forward. Straight down rather than tilted back towards the
 * fingers: it keeps what lies ahead of the hand (find-smell's bin as the carry starts) in view,
 * and find-smell's policy grasps and lifts the jar in 26–35 of 50 episodes instead of 1–9 of 20
 * (docs/results.md, "A second, fixed camera").
 */
export function wristCameraPose(camera: THREE.Camera, tool: { x: number; y: number; z: number }, yaw: number): void {
  const fx = Math.cos(yaw);
  const fy = Math.sin(yaw);
  const x = tool.x + fx * ROBOT.cameraForward;
  const y = tool.y + fy * ROBOT.cameraForward;
  camera.position.set(x, y, tool.z + ROBOT.cameraAboveTool);
  camera.up.set(fx, fy, 0);
  camera.lookAt(x, y, tool.z - 0.06);
  camera.updateMatrixWorld();
}

/** Poses a camera as the scene camera: over the counter, looking straight down; image up is +x (away from the robot), image right −y. */
export function sceneCameraPose(camera: THREE.Camera): void {
  camera.position.set(SCENE_CAMERA.x, SCENE_CAMERA.y, SCENE_CAMERA.z);
  camera.up.set(1, 0, 0);
  camera.lookAt(SCENE_CAMERA.x, SCENE_CAMERA.y, 0);
  camera.updateMatrixWorld();
}
