// Acquiring a WebGPU device, in Node (Dawn's `webgpu` package) and in the
// browser (`navigator.gpu`), with the CPU backend as the fallback. Every
// caller gets the same answer shape: which backend, and why.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

export interface GpuHandle {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** True when the adapter is a software rasterizer (Mesa lavapipe / llvmpipe, SwiftShader). */
  softwareDriver: boolean;
  /** Resolves when the device is lost, for whatever reason (including release()). */
  lost: Promise<GPUDeviceLostInfo>;
  isLost(): boolean;
  /** Destroys the device and drops every reference so the process can exit. Idempotent. */
  release(): void;
}

export type BackendChoice =
  | { backend: 'webgpu'; gpu: GpuHandle; reason: string }
  | { backend: 'cpu'; gpu: null; reason: string; fix: string | null };

export interface AcquireOptions {
  /** 'auto' takes WebGPU when an adapter exists; 'cpu' never touches the GPU. */
  prefer?: 'auto' | 'webgpu' | 'cpu';
  /** Called once if the device is lost while in use (not on release()). */
  onLost?: (info: GPUDeviceLostInfo) => void;
}

export const SETUP_FIX = 'run `npm run setup:gpu` (installs the software Vulkan driver on Debian/Ubuntu)';

// Limits the kernels use beyond the WebGPU defaults; each is requested only up
// to what the adapter offers.
const WANTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  // GPUSupportedLimits exposes its fields as prototype getters, not own keys.
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/**
 * One Dawn instance per process, shared through a well-known global symbol
 * (the simulator's renderer uses the same one). Instances are never dropped:
 * a released instance finalized later by the GC, while another is in use,
 * aborted the process ("std::system_error: Invalid argument") after a
 * train → eval sequence and in a vitest worker that then forked. Destroying
 * the devices is enough for Node to exit.
 */
export const DAWN_INSTANCE = Symbol.for('senseact.dawn');

function dawnInstance(create: (flags: string[]) => GPU): GPU {
  const g = globalThis as unknown as Record<symbol, GPU | undefined>;
  return (g[DAWN_INSTANCE] ??= create([]));
}

async function getGpu(): Promise<{ gpu: GPU | null; why: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (typeof window !== 'undefined') {
    if (nav?.gpu) return { gpu: nav.gpu, why: '' };
    return { gpu: null, why: 'this browser has no navigator.gpu' };
  }
  if (process.env.XDG_RUNTIME_DIR === undefined) process.env.XDG_RUNTIME_DIR = '/tmp';
  try {
    const { create, globals } = await import('webgpu');
    // The GPU* constants (GPUBufferUsage, ...) must be global for kernel code.
    Object.assign(globalThis, globals);
    return { gpu: dawnInstance(create), why: '' };
  } catch (err) {
    return { gpu: null, why: `the 'webgpu' package failed to load (${(err as Error).message})` };
  }
}

export async function acquireBackend(options: AcquireOptions = {}): Promise<BackendChoice> {
  const forced = process.env.SENSEACT_BACKEND;
  const prefer = options.prefer ?? (forced === 'cpu' || forced === 'webgpu' ? forced : 'auto');
  if (prefer === 'cpu') {
    const reason = forced === 'cpu' && options.prefer === undefined ? 'forced by SENSEACT_BACKEND=cpu' : 'CPU backend requested';
    return { backend: 'cpu', gpu: null, reason, fix: null };
  }

  let { gpu, why } = await getGpu();
  let adapter: GPUAdapter | null = null;
  if (gpu) {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) why = 'no WebGPU adapter found (no GPU driver or Vulkan ICD available)';
  }
  if (!adapter) {
    gpu = null;
    const inBrowser = typeof window !== 'undefined';
    return { backend: 'cpu', gpu: null, reason: why, fix: inBrowser ? 'use a browser with WebGPU enabled' : SETUP_FIX };
  }

  const summary = summarize(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const key of WANTED_LIMITS) if (summary.limits[key] !== undefined) requiredLimits[key] = summary.limits[key];
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter!.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'senseact' });

  let lost = false;
  let released = false;
  const lostPromise = device.lost.then((info) => {
    lost = true;
    if (!released) options.onLost?.(info);
    return info;
  });

  const handle: GpuHandle = {
    device,
    adapter: summary,
    softwareDriver: SOFTWARE_ADAPTER.test(`${summary.description} ${summary.device} ${summary.architecture}`),
    lost: lostPromise,
    isLost: () => lost,
    release() {
      if (released) return;
      released = true;
      device.destroy();
      adapter = null;
    },
  };
  const reason = handle.softwareDriver
    ? `WebGPU adapter "${summary.description || summary.device}" (software driver: correct, not fast)`
    : `WebGPU adapter "${summary.description || summary.device}"`;
  return { backend: 'webgpu', gpu: handle, reason };
}

/**
 * For tests and CI: with SENSEACT_REQUIRE_WEBGPU=1 a missing adapter is an
 * error, not a skip.
 */
export function webgpuRequired(): boolean {
  return process.env.SENSEACT_REQUIRE_WEBGPU === '1';
}
