// The elementwise primitive set. Each op is one entry: how the CPU computes it
// and the WGSL expression the WebGPU backend compiles. Inputs are x0, x1, x2;
// scalar parameters are s0..s3. Adding an op here gives both backends the
// kernel; its gradient lives in tensor.ts, written with these same ops.

export interface MapOpDef {
  arity: 0 | 1 | 2 | 3;
  cpu: (x0: number, x1: number, x2: number, s: readonly number[]) => number;
  wgsl: string;
}

const SQRT_2_OVER_PI = 0.7978845608028654;

function geluCpu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

function geluGradCpu(x: number): number {
  const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  const t = Math.tanh(u);
  const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
}

// tanh in WGSL overflows to NaN for large |x| on some drivers; clamp first.
const WGSL_TANH = 'tanh(clamp(x0, -15.0, 15.0))';
const WGSL_GELU_U = '(0.7978845608028654 * (x0 + 0.044715 * x0 * x0 * x0))';

export const MAP_OPS = {
  copy: { arity: 1, cpu: (a) => a, wgsl: 'x0' },
  neg: { arity: 1, cpu: (a) => -a, wgsl: '-x0' },
  exp: { arity: 1, cpu: Math.exp, wgsl: 'exp(x0)' },
  log: { arity: 1, cpu: Math.log, wgsl: 'log(x0)' },
  sqrt: { arity: 1, cpu: Math.sqrt, wgsl: 'sqrt(x0)' },
  abs: { arity: 1, cpu: Math.abs, wgsl: 'abs(x0)' },
  sign: { arity: 1, cpu: (a) => (a > 0 ? 1 : a < 0 ? -1 : 0), wgsl: 'sign(x0)' },
  relu: { arity: 1, cpu: (a) => (a > 0 ? a : 0), wgsl: 'max(x0, 0.0)' },
  tanh: { arity: 1, cpu: Math.tanh, wgsl: WGSL_TANH },
  sigmoid: { arity: 1, cpu: (a) => 1 / (1 + Math.exp(-a)), wgsl: '1.0 / (1.0 + exp(-x0))' },
  gelu: { arity: 1, cpu: geluCpu, wgsl: `0.5 * x0 * (1.0 + tanh(clamp(${WGSL_GELU_U}, -15.0, 15.0)))` },
  symlog: { arity: 1, cpu: (a) => Math.sign(a) * Math.log1p(Math.abs(a)), wgsl: 'sign(x0) * log(1.0 + abs(x0))' },
  // Scalar forms avoid materializing a broadcast constant tensor.
  adds: { arity: 1, cpu: (a, _b, _c, s) => a + s[0], wgsl: 'x0 + s.x' },
  muls: { arity: 1, cpu: (a, _b, _c, s) => a * s[0], wgsl: 'x0 * s.x' },
  rsubs: { arity: 1, cpu: (a, _b, _c, s) => s[0] - a, wgsl: 's.x - x0' },
  rdivs: { arity: 1, cpu: (a, _b, _c, s) => s[0] / a, wgsl: 's.x / x0' },
  clamp: { arity: 1, cpu: (a, _b, _c, s) => Math.min(Math.max(a, s[0]), s[1]), wgsl: 'clamp(x0, s.x, s.y)' },
  inrange: { arity: 1, cpu: (a, _b, _c, s) => (a >= s[0] && a <= s[1] ? 1 : 0), wgsl: 'select(0.0, 1.0, x0 >= s.x && x0 <= s.y)' },
  lts: { arity: 1, cpu: (a, _b, _c, s) => (a < s[0] ? 1 : 0), wgsl: 'select(0.0, 1.0, x0 < s.x)' },
  add: { arity: 2, cpu: (a, b) => a + b, wgsl: 'x0 + x1' },
  sub: { arity: 2, cpu: (a, b) => a - b, wgsl: 'x0 - x1' },
  mul: { arity: 2, cpu: (a, b) => a * b, wgsl: 'x0 * x1' },
  div: { arity: 2, cpu: (a, b) => a / b, wgsl: 'x0 / x1' },
  maximum: { arity: 2, cpu: (a, b) => Math.max(a, b), wgsl: 'max(x0, x1)' },
  minimum: { arity: 2, cpu: (a, b) => Math.min(a, b), wgsl: 'min(x0, x1)' },
  ge: { arity: 2, cpu: (a, b) => (a >= b ? 1 : 0), wgsl: 'select(0.0, 1.0, x0 >= x1)' },
  gt: { arity: 2, cpu: (a, b) => (a > b ? 1 : 0), wgsl: 'select(0.0, 1.0, x0 > x1)' },
  eq: { arity: 2, cpu: (a, b) => (a === b ? 1 : 0), wgsl: 'select(0.0, 1.0, x0 == x1)' },
  // Fused gradient primitives: (x or output, upstream gradient).
  relu_grad: { arity: 2, cpu: (x, g) => (x > 0 ? g : 0), wgsl: 'select(0.0, x1, x0 > 0.0)' },
  gelu_grad: {
    arity: 2,
    cpu: (x, g) => g * geluGradCpu(x),
    wgsl: `x1 * (0.5 * (1.0 + tanh(clamp(${WGSL_GELU_U}, -15.0, 15.0))) + 0.5 * x0 * (1.0 - tanh(clamp(${WGSL_GELU_U}, -15.0, 15.0)) * tanh(clamp(${WGSL_GELU_U}, -15.0, 15.0))) * 0.7978845608028654 * (1.0 + 0.134145 * x0 * x0))`,
  },
  tanh_grad: { arity: 2, cpu: (y, g) => g * (1 - y * y), wgsl: 'x1 * (1.0 - x0 * x0)' },
  sigmoid_grad: { arity: 2, cpu: (y, g) => g * y * (1 - y), wgsl: 'x1 * x0 * (1.0 - x0)' },
  symlog_grad: { arity: 2, cpu: (x, g) => g / (1 + Math.abs(x)), wgsl: 'x1 / (1.0 + abs(x0))' },
  where: { arity: 3, cpu: (c, a, b) => (c !== 0 ? a : b), wgsl: 'select(x2, x1, x0 != 0.0)' },
} satisfies Record<string, MapOpDef>;

export type MapOp = keyof typeof MAP_OPS;
