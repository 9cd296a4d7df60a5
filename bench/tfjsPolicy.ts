// The peer: the same policy network written with TensorFlow.js (tfjs-core
// 4.22), layer for layer — 4×4/s4, 3×3/s2 + group norm, 3×3/s1 convs, a
// spatial-softmax readout and pooling, MLP encoders, learned missing and
// modality tokens, two pre-LN transformer layers, the chunk head, chunkL1,
// AdamW with global-norm clipping — on any tfjs backend. tfjs has no fused
// AdamW or gelu op, so both are written with tfjs ops, as a tfjs user would.
//
// tfjs-backend-webgpu looks for `navigator.gpu` when it is imported, so
// loadTfjs() installs Dawn's GPU object there first (the same adapter the
// senseact backend uses).
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';
import type { FeatureBatch, FeatureDims, PolicyConfig } from '../policy/index.ts';

export type Tf = typeof TF;
export type TfBackendName = 'webgpu' | 'wasm' | 'cpu';

let loaded: Tf | null = null;

/** Imports tfjs-core and the webgpu, wasm and cpu backends (webgpu on Dawn's adapter). */
export async function loadTfjs(): Promise<Tf> {
  if (loaded) return loaded;
  if (process.env.XDG_RUNTIME_DIR === undefined) process.env.XDG_RUNTIME_DIR = '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const g = globalThis as { navigator?: { gpu?: unknown; userAgent?: string } };
  // Node 20 has no navigator; tfjs-backend-webgpu checks navigator.gpu at import.
  if (!g.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]), userAgent: 'node' }, configurable: true, writable: true });
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-backend-webgpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  loaded = tf;
  return tf;
}

/**
 * tfjs-core's Node build registers no gradients; they ship only as unbundled
 * ESM (dist/register_all_gradients.js) that Node cannot resolve (directory
 * imports). Bundle that file with esbuild (tsx's own) and run it: its copy of
 * the core code registers into the global gradient registry and runs on the
 * global engine, exactly as the @tensorflow/tfjs union package does.
 */
let gradients = false;
export async function registerGradients(): Promise<void> {
  if (gradients) return;
  gradients = true;
  const require = createRequire(import.meta.url);
  const esbuild = await import('esbuild');
  const entry = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'register_all_gradients.js');
  const built = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent' });
  const module = { exports: {} };
  new Function('require', 'module', 'exports', built.outputFiles[0].text)(require, module, module.exports);
}

/** Switches tfjs to a backend; returns a reason string when it cannot run here. */
export async function useTfBackend(tf: Tf, name: TfBackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tfjs could not initialize its '${name}' backend`;
    await tf.ready();
    return null;
  } catch (err) {
    return `tfjs '${name}' backend failed: ${(err as Error).message}`;
  }
}

/** Short description of tfjs's current backend (adapter for webgpu, SIMD/threads for wasm). */
export function tfBackendInfo(tf: Tf): string {
  const name = tf.getBackend();
  if (name === 'webgpu') {
    const be = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
    const info = be.adapterInfo;
    return `tfjs-webgpu 4.22 (${[info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'Dawn adapter'})`;
  }
  if (name === 'wasm') return 'tfjs-wasm 4.22 (XNNPACK)';
  return `tfjs-${name} 4.22`;
}

type V = TF.Variable;

function kaiming(tf: Tf, shape: number[], fanIn: number, scale = 1): V {
  const bound = scale * Math.sqrt(6 / fanIn);
  return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', 7));
}
const zeros = (tf: Tf, shape: number[]) => tf.variable(tf.zeros(shape));
const ones = (tf: Tf, shape: number[]) => tf.variable(tf.ones(shape));

function gelu(tf: Tf, x: TF.Tensor): TF.Tensor {
  const u = tf.mul(0.7978845608028654, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(u)));
}

function layerNorm(tf: Tf, x: TF.Tensor, gamma: V, beta: V): TF.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

interface Linear {
  w: V;
  b: V;
}
const linear = (tf: Tf, i: number, o: number): Linear => ({ w: kaiming(tf, [i, o], i), b: zeros(tf, [o]) });
const applyLinear = (tf: Tf, l: Linear, x: TF.Tensor) => tf.add(tf.matMul(x as TF.Tensor2D, l.w as TF.Tensor2D), l.b);

export interface TfPolicyInputs {
  image: TF.Tensor4D;
  tactile: TF.Tensor2D;
  smell: TF.Tensor2D;
  proprio: TF.Tensor2D;
  mask: TF.Tensor2D;
}

/** The MultimodalPolicy of policy/network.ts, with every modality present (the default config). */
export class TfPolicy {
  readonly vars: V[] = [];
  private readonly c: { w: V; b: V }[];
  private readonly gn: { g: V; b: V };
  private readonly camProj: Linear;
  private readonly enc: { l1: Linear; l2: Linear }[];
  private readonly modalityEmbed: V;
  private readonly missing: V;
  private readonly layers: { ln1: [V, V]; qkv: Linear; proj: Linear; ln2: [V, V]; ff1: Linear; ff2: Linear }[];
  private readonly lnOut: [V, V];
  private readonly head: Linear;
  private readonly grid: TF.Tensor2D;
  private readonly m: TF.Variable[];
  private readonly v: TF.Variable[];
  private stepCount = 0;

  constructor(
    private readonly tf: Tf,
    readonly config: PolicyConfig,
    readonly dims: FeatureDims,
  ) {
    const D = config.width;
    const conv = (k: number, ci: number, co: number) => ({ w: kaiming(tf, [k, k, ci, co], k * k * ci), b: zeros(tf, [co]) });
    this.c = [conv(4, 3, 16), conv(3, 16, 32), conv(3, 32, 32)];
    this.gn = { g: ones(tf, [32]), b: zeros(tf, [32]) };
    this.camProj = linear(tf, 96, D);
    this.enc = [dims.tactile, dims.smell, dims.proprio].map((n) => ({ l1: linear(tf, n, 64), l2: linear(tf, 64, D) }));
    this.modalityEmbed = kaiming(tf, [5, D], D, 0.1);
    this.missing = kaiming(tf, [4, D], D, 0.1);
    const ln = (): [V, V] => [ones(tf, [D]), zeros(tf, [D])];
    this.layers = Array.from({ length: config.layers }, () => ({ ln1: ln(), qkv: linear(tf, D, 3 * D), proj: linear(tf, D, D), ln2: ln(), ff1: linear(tf, D, config.ffn), ff2: linear(tf, config.ffn, D) }));
    this.lnOut = ln();
    this.head = linear(tf, D, config.chunk * 7);
    for (const c of this.c) this.vars.push(c.w, c.b);
    this.vars.push(this.gn.g, this.gn.b, this.camProj.w, this.camProj.b);
    for (const e of this.enc) this.vars.push(e.l1.w, e.l1.b, e.l2.w, e.l2.b);
    this.vars.push(this.modalityEmbed, this.missing);
    for (const l of this.layers) this.vars.push(...l.ln1, l.qkv.w, l.qkv.b, l.proj.w, l.proj.b, ...l.ln2, l.ff1.w, l.ff1.b, l.ff2.w, l.ff2.b);
    this.vars.push(...this.lnOut, this.head.w, this.head.b);
    // Spatial-softmax coordinates for the 8×8 map of a 64×64 image.
    const h = config.image.height / 8;
    const w = config.image.width / 8;
    const coords = new Float32Array(h * w * 2);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        coords[(y * w + x) * 2] = ((x + 0.5) / w) * 2 - 1;
        coords[(y * w + x) * 2 + 1] = ((y + 0.5) / h) * 2 - 1;
      }
    this.grid = tf.keep(tf.tensor2d(coords, [h * w, 2]));
    this.m = this.vars.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = this.vars.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  parameterCount(): number {
    return this.vars.reduce((n, p) => n + p.size, 0);
  }

  private camera(image: TF.Tensor4D): TF.Tensor2D {
    const tf = this.tf;
    const B = image.shape[0];
    const h1 = tf.relu(tf.add(tf.conv2d(image, this.c[0].w as TF.Tensor4D, 4, 0), this.c[0].b)) as TF.Tensor4D;
    const z2 = tf.add(tf.conv2d(h1, this.c[1].w as TF.Tensor4D, 2, 1), this.c[1].b) as TF.Tensor4D;
    const [, hh, ww, C] = z2.shape;
    const g = tf.reshape(z2, [B, hh * ww, 4, C / 4]);
    const { mean, variance } = tf.moments(g, [1, 3], true);
    const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [B, hh, ww, C]);
    const h2 = tf.relu(tf.add(tf.mul(n, this.gn.g), this.gn.b)) as TF.Tensor4D;
    const h3 = tf.relu(tf.add(tf.conv2d(h2, this.c[2].w as TF.Tensor4D, 1, 1), this.c[2].b)) as TF.Tensor4D;
    const flat = tf.transpose(tf.reshape(h3, [B, hh * ww, C]), [0, 2, 1]); // [B, C, hw]
    const attention = tf.softmax(flat, -1);
    const keypoints = tf.reshape(tf.matMul(tf.reshape(attention, [B * C, hh * ww]), this.grid), [B, 2 * C]);
    const pooled = tf.mean(flat, -1);
    return applyLinear(tf, this.camProj, tf.concat([keypoints, pooled], 1)) as TF.Tensor2D;
  }

  private attention(x: TF.Tensor3D, qkv: Linear, proj: Linear): TF.Tensor3D {
    const tf = this.tf;
    const [B, T, D] = x.shape;
    const H = this.config.heads;
    const hd = D / H;
    // q, k, v as 2-D column slices of [B·T, 3D]: tfjs-webgpu 4.22 emits invalid
    // WGSL ('vec5') for the gradient of a 5-D slice (a 5-D pad).
    const y = applyLinear(tf, qkv, tf.reshape(x, [B * T, D])) as TF.Tensor2D;
    const part = (i: number) => tf.reshape(tf.transpose(tf.reshape(tf.slice(y, [0, i * D], [B * T, D]), [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]) as TF.Tensor3D;
    const scores = tf.mul(tf.matMul(part(0), part(1), false, true), 1 / Math.sqrt(hd));
    const out = tf.matMul(tf.softmax(scores, -1) as TF.Tensor3D, part(2));
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]);
    return tf.reshape(applyLinear(tf, proj, merged), [B, T, D]) as TF.Tensor3D;
  }

  forward(x: TfPolicyInputs): TF.Tensor3D {
    const tf = this.tf;
    const B = x.mask.shape[0];
    const D = this.config.width;
    const features = [this.camera(x.image), ...[x.tactile, x.smell, x.proprio].map((t, i) => applyLinear(tf, this.enc[i].l2, gelu(tf, applyLinear(tf, this.enc[i].l1, t))))];
    const tokens = features.map((f, i) => {
      const masked = tf.slice(x.mask, [0, i], [B, 1]);
      const tok = tf.add(tf.where(tf.tile(tf.cast(masked, 'bool'), [1, D]), tf.tile(tf.slice(this.missing, [i, 0], [1, D]), [B, 1]), f), tf.slice(this.modalityEmbed, [i, 0], [1, D]));
      return tf.reshape(tok, [B, 1, D]);
    });
    tokens.push(tf.tile(tf.reshape(tf.slice(this.modalityEmbed, [4, 0], [1, D]), [1, 1, D]), [B, 1, 1]));
    let h = tf.concat(tokens, 1) as TF.Tensor3D;
    for (const l of this.layers) {
      h = tf.add(h, this.attention(layerNorm(tf, h, ...l.ln1) as TF.Tensor3D, l.qkv, l.proj));
      const n = tf.reshape(layerNorm(tf, h, ...l.ln2), [-1, D]);
      h = tf.add(h, tf.reshape(applyLinear(tf, l.ff2, gelu(tf, applyLinear(tf, l.ff1, n))), h.shape));
    }
    const readout = layerNorm(tf, tf.reshape(tf.slice(h, [0, 4, 0], [B, 1, D]), [B, D]), ...this.lnOut);
    return tf.reshape(applyLinear(tf, this.head, readout), [B, this.config.chunk, 7]) as TF.Tensor3D;
  }

  /** One training step: chunkL1 loss, gradients, global-norm clip, AdamW. Returns the loss tensor (caller reads and disposes). */
  trainStep(x: TfPolicyInputs, target: TF.Tensor3D, valid: TF.Tensor2D): TF.Scalar {
    const tf = this.tf;
    const t = this.config.train;
    const { value, grads } = tf.variableGrads(() => {
      const err = tf.sum(tf.mul(tf.abs(tf.sub(this.forward(x), target)), tf.expandDims(valid, -1)));
      return tf.div(err, tf.add(tf.mul(tf.sum(valid), 7), 1e-6)) as TF.Scalar;
    }, this.vars);
    this.stepCount++;
    tf.tidy(() => {
      const list = this.vars.map((p) => grads[p.name]);
      // Pairwise adds: tfjs-webgpu's addN binds one storage buffer per input
      // and fails validation past the device's 8 per stage (52 parameters here).
      const norm = tf.sqrt(list.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)));
      const scale = t.clip_norm > 0 ? tf.div(t.clip_norm, tf.maximum(norm, t.clip_norm)) : tf.scalar(1);
      const bc1 = 1 - Math.pow(0.9, this.stepCount);
      const bc2 = 1 - Math.pow(0.999, this.stepCount);
      this.vars.forEach((p, i) => {
        const g = tf.mul(list[i], scale);
        const m = tf.add(tf.mul(this.m[i], 0.9), tf.mul(g, 0.1));
        const v = tf.add(tf.mul(this.v[i], 0.999), tf.mul(tf.square(g), 0.001));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), 1e-8));
        p.assign(tf.sub(p, tf.mul(t.lr, tf.add(update, tf.mul(t.weight_decay, p)))));
      });
    });
    tf.dispose(Object.values(grads));
    return value;
  }

  inputs(batch: FeatureBatch): TfPolicyInputs {
    const tf = this.tf;
    const B = batch.size;
    const { width, height } = this.config.image;
    return {
      image: tf.tensor4d(batch.image, [B, height, width, 3]),
      tactile: tf.tensor2d(batch.tactile, [B, this.dims.tactile]),
      smell: tf.tensor2d(batch.smell, [B, this.dims.smell]),
      proprio: tf.tensor2d(batch.proprio, [B, this.dims.proprio]),
      mask: tf.tensor2d(batch.mask, [B, 4]),
    };
  }

  dispose(): void {
    this.tf.dispose([...this.vars, ...this.m, ...this.v, this.grid]);
  }
}
