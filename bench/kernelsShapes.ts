// The kernel shapes the default policy actually runs, read off one training
// step and one inference tick on a recording CPU backend (so the list follows
// the network when it changes), plus its three convolutions.
import { CpuBackend, type Backend, type ConvGeometry, type Storage, type View } from '../kernels/index.ts';
import type { MatmulOptions } from '../kernels/backend.ts';
import { defaultConfig, type FeatureDims, type PolicyConfig } from '../policy/index.ts';
import { SIM_DIMS, policyWorkload } from './trainPolicy.ts';

export interface MatmulShape {
  B: number;
  M: number;
  N: number;
  K: number;
  /** A is read transposed (m contiguous) / B is read transposed (k contiguous). */
  tA: boolean;
  tB: boolean;
  /** B is shared by every batch (stride 0). */
  bBroadcast: boolean;
  /** Calls per training step + tick. */
  count: number;
  where: 'train' | 'tick' | 'extra';
}

export interface ConvShape {
  n: number;
  h: number;
  w: number;
  c: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

export const shapeLabel = (s: MatmulShape) => `${s.B > 1 ? `${s.B}×` : ''}${s.M}×${s.N}×${s.K}${s.tA ? ' Aᵀ' : ''}${s.tB ? ' Bᵀ' : ''}`;
export const convLabel = (c: ConvShape) => `${c.n}×${c.h}×${c.w}×${c.c}→${c.cout} k${c.k}s${c.stride}p${c.pad}`;
export const matmulFlops = (s: Pick<MatmulShape, 'B' | 'M' | 'N' | 'K'>) => 2 * s.B * s.M * s.N * s.K;
export function convFlops(c: ConvShape): number {
  const oh = Math.floor((c.h + 2 * c.pad - c.k) / c.stride) + 1;
  const ow = Math.floor((c.w + 2 * c.pad - c.k) / c.stride) + 1;
  return 2 * c.n * oh * ow * c.cout * c.k * c.k * c.c;
}

/** Records every matmul a backend is asked for (the CPU backend does the work). */
function recording(inner: CpuBackend, seen: Map<string, MatmulShape>, where: () => 'train' | 'tick'): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'matmul') {
        return (out: Storage, a: View, b: View, options?: MatmulOptions) => {
          const [B, M, K] = a.shape;
          const N = b.shape[2];
          const tA = a.strides[1] === 1 && a.strides[2] !== 1 && M > 1;
          const tB = b.strides[1] === 1 && b.strides[2] !== 1 && N > 1;
          const bBroadcast = B > 1 && b.strides[0] === 0;
          const key = `${B},${M},${N},${K},${tA},${tB},${bBroadcast}`;
          const s = seen.get(key) ?? { B, M, N, K, tA, tB, bBroadcast, count: 0, where: where() };
          s.count++;
          seen.set(key, s);
          return target.matmul(out, a, b, options);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export async function policyMatmulShapes(config: PolicyConfig = defaultConfig(), dims: FeatureDims = SIM_DIMS): Promise<MatmulShape[]> {
  const seen = new Map<string, MatmulShape>();
  let phase: 'train' | 'tick' = 'train';
  const backend = recording(new CpuBackend(), seen, () => phase);
  const work = policyWorkload(backend, { config, dims });
  await work.trainStep();
  phase = 'tick';
  await work.tick();
  work.dispose();
  return [...seen.values()].sort((a, b) => matmulFlops(b) - matmulFlops(a));
}

/** The camera encoder's convolutions at the training batch (policy/network.ts). */
export function policyConvShapes(config: PolicyConfig = defaultConfig()): ConvShape[] {
  const n = config.train.batch_size;
  const { width, height } = config.image;
  return [
    { n, h: height, w: width, c: 3, cout: 16, k: 4, stride: 4, pad: 0 },
    { n, h: height / 4, w: width / 4, c: 16, cout: 32, k: 3, stride: 2, pad: 1 },
    { n, h: height / 8, w: width / 8, c: 32, cout: 32, k: 3, stride: 1, pad: 1 },
  ];
}

/** Larger square products, to see each implementation's best throughput. */
export function extraMatmulShapes(quick: boolean): MatmulShape[] {
  const sizes = quick ? [256, 512] : [256, 512, 1024];
  return sizes.map((n) => ({ B: 1, M: n, N: n, K: n, tA: false, tB: false, bBroadcast: false, count: 0, where: 'extra' }));
}

export type { ConvGeometry };
