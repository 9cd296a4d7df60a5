// The wrist camera in Node: Dawn through the `webgpu` package.
import { WristCamera, type CameraOptions } from './camera.ts';
import { fakeCanvas, installNodeWebGpu } from './render/node-gpu.ts';

export async function createNodeCamera(opts: CameraOptions = {}): Promise<WristCamera> {
  await installNodeWebGpu();
  return WristCamera.create(opts, fakeCanvas(opts.width ?? 96, opts.height ?? 96));
}
