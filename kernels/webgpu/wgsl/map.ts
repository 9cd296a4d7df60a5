// Elementwise kernel: one thread per output element. Each view (output and
// inputs) is specialized as dense ('d': index = offset + i), scalar ('s':
// stride 0 everywhere) or general ('g': strided, e.g. broadcast or permuted).
// Integer div/mod per dimension is expensive on CPU drivers, so the common
// dense case skips the coordinate loop entirely.
import { MAP_OPS, type MapOp } from '../../ops.ts';

export const MAP_UNIFORM_BYTES = 208;

export type ViewKind = 'd' | 's' | 'g';

export function viewKind(shape: readonly number[], strides: readonly number[]): ViewKind {
  if (strides.every((s) => s === 0)) return 's';
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expect) return 'g';
    expect *= shape[i];
  }
  return 'd';
}

/** kinds[0] is the output, kinds[1..] the inputs. */
export function mapKernel(op: MapOp, kinds: readonly ViewKind[]): string {
  const def = MAP_OPS[op];
  const inKinds = kinds.slice(1);
  const inputs = Array.from({ length: def.arity }, (_, k) => `@group(0) @binding(${k + 1}) var<storage, read> a${k}: array<f32>;`).join('\n');
  const init = (kind: ViewKind, off: string) => (kind === 'd' ? `${off} + i` : off);
  const general = kinds.some((k) => k === 'g');
  const updates = [
    kinds[0] === 'g' ? '    o += c * p.out_st[d / 4u][d % 4u];' : '',
    ...inKinds.map((kind, k) => (kind === 'g' ? `    i${k} += c * p.in_st[${2 * k}u + d / 4u][d % 4u];` : '')),
  ]
    .filter(Boolean)
    .join('\n');
  const loop = general
    ? `  var rem = i;
  for (var k = 0u; k < p.hdr.y; k++) {
    let d = p.hdr.y - 1u - k;
    let size = p.shape[d / 4u][d % 4u];
    let c = rem % size;
    rem = rem / size;
${updates}
  }`
    : '';
  const offs = ['p.offs.x', 'p.offs.y', 'p.offs.z'];
  const loads = Array.from({ length: 3 }, (_, k) => (k < def.arity ? `  let x${k} = a${k}[i${k}];` : `  let x${k} = 0.0;`)).join('\n');
  return /* wgsl */ `
struct P {
  hdr: vec4<u32>,    // n, rank, out offset, -
  offs: vec4<u32>,   // input offsets
  s: vec4<f32>,      // scalar parameters
  shape: array<vec4<u32>, 2>,
  out_st: array<vec4<u32>, 2>,
  in_st: array<vec4<u32>, 6>,
}
@group(0) @binding(0) var<uniform> p: P;
${inputs}
@group(0) @binding(${def.arity + 1}) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.hdr.x) { return; }
  let s = p.s;
  var o = ${init(kinds[0], 'p.hdr.z')};
${inKinds.map((kind, k) => `  var i${k} = ${init(kind, offs[k])};`).join('\n')}
${loop}
${loads}
  out[o] = ${def.wgsl};
}`;
}
