// The simulator's cameras in Node: Dawn through the `webgpu` package.
import { CameraRig, type CameraOptions } from './camera.ts';
import { fakeCanvas, installNodeWebGpu } from './render/node-gpu.ts';

export async function createNodeCamera(opts: CameraOptions = {}): Promise<CameraRig> {
  await installNodeWebGpu();
  return CameraRig.create(opts, fakeCanvas(opts.width ?? 96, opts.height ?? 96));
}
