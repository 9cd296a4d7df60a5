// kernels/: tensors, autograd, backends (WebGPU via Dawn or navigator.gpu; CPU
// reference), WGSL kernels. Imports nothing else of senseact.
export { acquireBackend, webgpuRequired, SETUP_FIX } from './device.ts';
export type { AdapterSummary, GpuHandle, BackendChoice, AcquireOptions } from './device.ts';
export { runSmoke, smokeCpu, smokeWebGpu } from './smoke.ts';
export type { SmokeResult } from './smoke.ts';
export type { Backend, Storage, View, Activation, ConvGeometry, AdamWHyper, MemoryStats } from './backend.ts';
export { CpuBackend } from './cpu/CpuBackend.ts';
export { WebGpuBackend } from './webgpu/WebGpuBackend.ts';
export { createBackend } from './createBackend.ts';
export type { CreatedBackend } from './createBackend.ts';
export { Tensor, setDefaultBackend, getDefaultBackend } from './tensor.ts';
export { tidy, keep, noGrad, tapeLength } from './autograd.ts';
export { MAP_OPS } from './ops.ts';
export type { MapOp } from './ops.ts';
export { uniformAt, normalAt } from './rng.ts';
export * as F from './functional.ts';
export * as nn from './nn/index.ts';
export { AdamW } from './optim.ts';
