// One call to get a ready backend: WebGPU when an adapter exists (or is
// required), the CPU reference otherwise.
import type { Backend } from './backend.ts';
import { CpuBackend } from './cpu/CpuBackend.ts';
import { acquireBackend, type GpuHandle } from './device.ts';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu/WebGpuBackend.ts';

export interface CreatedBackend {
  backend: Backend;
  /** Why this backend was chosen. */
  reason: string;
  gpu: GpuHandle | null;
  /** Frees the backend's buffers and the device. */
  dispose(): void;
}

export async function createBackend(options: { prefer?: 'auto' | 'webgpu' | 'cpu'; poison?: boolean } & WebGpuBackendOptions = {}): Promise<CreatedBackend> {
  const choice = await acquireBackend({ prefer: options.prefer });
  if (options.prefer === 'webgpu' && choice.backend !== 'webgpu') {
    throw new Error(`WebGPU requested but unavailable: ${choice.reason}; ${choice.fix ?? ''}`);
  }
  if (choice.backend === 'cpu') {
    const backend = new CpuBackend({ poison: options.poison });
    return { backend, reason: choice.reason, gpu: null, dispose: () => backend.destroy() };
  }
  // In Node the tuning cache is a file under the user's cache directory (so
  // `senseact tune` benefits every later run); in the browser it stays in memory.
  let tune = options.tune;
  const inNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
  if (inNode && tune?.store === undefined) {
    const { defaultTuneCachePath, fileTuneStore } = await import('./webgpu/tuneFile.ts');
    tune = { ...tune, store: fileTuneStore(defaultTuneCachePath()) };
  }
  const backend = new WebGpuBackend(choice.gpu.device, { ...options, tune });
  return {
    backend,
    reason: choice.reason,
    gpu: choice.gpu,
    dispose() {
      backend.destroy();
      choice.gpu.release();
    },
  };
}
