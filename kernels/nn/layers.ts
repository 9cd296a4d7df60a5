// The layers the policy is built from. Each holds its parameters and a
// forward(); the math lives in functional.ts.
import type { Activation, Backend } from '../backend.ts';
import { conv2d, groupNorm, layerNorm, linear, softmax } from '../functional.ts';
import { Tensor, getDefaultBackend } from '../tensor.ts';
import { kaimingUniform, seedFor } from './init.ts';
import { Module } from './Module.ts';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, options: { seed?: number; bias?: boolean; name?: string; backend?: Backend } = {}) {
    super(options.backend ?? getDefaultBackend());
    const seed = seedFor(options.seed ?? 0, options.name ?? `linear${inFeatures}x${outFeatures}`);
    this.weight = this.param('weight', kaimingUniform([inFeatures, outFeatures], inFeatures, seed, this.backend));
    this.bias = options.bias === false ? null : this.param('bias', Tensor.zeros([outFeatures], this.backend));
  }
  forward(x: Tensor, act: Activation = 'none'): Tensor {
    return linear(x, this.weight, this.bias, act);
  }
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    inChannels: number,
    outChannels: number,
    readonly kernel: number,
    readonly options: { stride?: number; pad?: number; seed?: number; bias?: boolean; name?: string; backend?: Backend } = {},
  ) {
    super(options.backend ?? getDefaultBackend());
    const fanIn = kernel * kernel * inChannels;
    const seed = seedFor(options.seed ?? 0, options.name ?? `conv${inChannels}x${outChannels}k${kernel}`);
    this.weight = this.param('weight', kaimingUniform([kernel, kernel, inChannels, outChannels], fanIn, seed, this.backend));
    this.bias = options.bias === false ? null : this.param('bias', Tensor.zeros([outChannels], this.backend));
  }
  forward(x: Tensor, act: Activation = 'none'): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.options.stride, pad: this.options.pad, act });
  }
}

export class LayerNorm extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  constructor(
    features: number,
    readonly eps = 1e-5,
    backend: Backend = getDefaultBackend(),
  ) {
    super(backend);
    this.gamma = this.param('gamma', Tensor.ones([features], backend));
    this.beta = this.param('beta', Tensor.zeros([features], backend));
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }
}

export class GroupNorm extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  constructor(
    readonly groups: number,
    channels: number,
    readonly eps = 1e-5,
    backend: Backend = getDefaultBackend(),
  ) {
    super(backend);
    this.gamma = this.param('gamma', Tensor.ones([channels], backend));
    this.beta = this.param('beta', Tensor.zeros([channels], backend));
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.gamma, this.beta, this.eps);
  }
}

/** Multi-head self-attention over tokens [B, T, D]. */
export class MultiHeadAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  constructor(
    readonly dim: number,
    readonly heads: number,
    options: { seed?: number; name?: string; backend?: Backend } = {},
  ) {
    super(options.backend ?? getDefaultBackend());
    if (dim % heads !== 0) throw new Error(`attention: width ${dim} does not split into ${heads} heads`);
    const name = options.name ?? 'attn';
    this.qkv = this.child('qkv', new Linear(dim, 3 * dim, { seed: options.seed, name: `${name}.qkv`, backend: this.backend }));
    this.proj = this.child('proj', new Linear(dim, dim, { seed: options.seed, name: `${name}.proj`, backend: this.backend }));
  }
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const [B, T, D] = x.shape;
    const hd = D / this.heads;
    // [B, T, 3, H, hd] → three [B, H, T, hd] views.
    const qkv = this.qkv.forward(x).reshape([B, T, 3, this.heads, hd]);
    const q = qkv.slice(2, 0, 1).reshape([B, T, this.heads, hd]).permute([0, 2, 1, 3]).reshape([B * this.heads, T, hd]);
    const k = qkv.slice(2, 1, 2).reshape([B, T, this.heads, hd]).permute([0, 2, 1, 3]).reshape([B * this.heads, T, hd]);
    const v = qkv.slice(2, 2, 3).reshape([B, T, this.heads, hd]).permute([0, 2, 1, 3]).reshape([B * this.heads, T, hd]);
    let scores = q.matmul(k.transpose()).mulScalar(1 / Math.sqrt(hd));
    if (mask) scores = scores.add(mask);
    const attn = softmax(scores, -1);
    const out = attn.matmul(v).reshape([B, this.heads, T, hd]).permute([0, 2, 1, 3]).reshape([B, T, D]);
    return this.proj.forward(out);
  }
}

/** Runs modules in order; each gets the previous output. */
export class Sequential extends Module {
  constructor(
    readonly layers: readonly (Module & { forward(x: Tensor): Tensor })[],
    backend: Backend = getDefaultBackend(),
  ) {
    super(backend);
    layers.forEach((l, i) => this.child(String(i), l));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}
