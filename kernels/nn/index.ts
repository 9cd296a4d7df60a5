export { Module } from './Module.ts';
export { Linear, Conv2d, LayerNorm, GroupNorm, MultiHeadAttention, Sequential } from './layers.ts';
export { kaimingUniform, seedFor } from './init.ts';
