// What three's WebGPURenderer needs to run in Node on Dawn (PLATFORM.md):
// navigator.gpu from the `webgpu` package, `self`, an animation-frame pair on
// timers, and a canvas stand-in. Browser code never imports this file.
let gpu: GPU | null = null;

export async function installNodeWebGpu(): Promise<GPU> {
  if (gpu) return gpu;
  if (process.env.XDG_RUNTIME_DIR === undefined) process.env.XDG_RUNTIME_DIR = '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  // The process-wide Dawn instance, shared with kernels/ (see DAWN_INSTANCE in
  // kernels/device.ts): a second instance finalized by the GC can abort Node.
  const shared = globalThis as unknown as Record<symbol, GPU | undefined>;
  gpu = shared[Symbol.for('senseact.dawn')] ??= create([]) as GPU;
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.requestAnimationFrame ??= (cb: (t: number) => void) => setTimeout(() => cb(performance.now()), 16) as unknown as number;
  g.cancelAnimationFrame ??= (id: number) => clearTimeout(id as unknown as NodeJS.Timeout);
  const nav = (g.navigator ?? {}) as Record<string, unknown>;
  try {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  } catch {
    /* navigator.gpu already defined */
  }
  (gpu as unknown as { getPreferredCanvasFormat?: () => string }).getPreferredCanvasFormat ??= () => 'rgba8unorm';
  if (!g.navigator) g.navigator = nav;
  return gpu;
}

/** A canvas-shaped object for a renderer that only ever draws into render targets. */
export function fakeCanvas(width: number, height: number): unknown {
  let device: GPUDevice | null = null;
  let format: GPUTextureFormat = 'rgba8unorm';
  let texture: GPUTexture | null = null;
  return {
    width,
    height,
    style: {},
    addEventListener() {},
    removeEventListener() {},
    getContext(kind: string) {
      if (kind !== 'webgpu') return null;
      return {
        configure(cfg: GPUCanvasConfiguration) {
          device = cfg.device;
          format = cfg.format;
        },
        unconfigure() {},
        getCurrentTexture() {
          texture ??= device!.createTexture({ size: [width, height], format, usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
          return texture;
        },
      };
    },
  };
}

/** Drops the Dawn instance so the process can exit once devices are destroyed. */
export function releaseNodeWebGpu(): void {
  gpu = null;
}
