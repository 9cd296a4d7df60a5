// kernels/: tensors, autograd, backends (WebGPU via Dawn or navigator.gpu; CPU
// reference), WGSL kernels. Imports nothing else of senseact.
export { acquireBackend, webgpuRequired, SETUP_FIX } from './device.ts';
export type { AdapterSummary, GpuHandle, BackendChoice, AcquireOptions } from './device.ts';
export { runSmoke, smokeCpu, smokeWebGpu } from './smoke.ts';
export type { SmokeResult } from './smoke.ts';
