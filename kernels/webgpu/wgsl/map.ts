// Elementwise kernel: one thread per output element; inputs and output are
// strided views (broadcast = stride 0), so views never need a copy first.
import { MAP_OPS, type MapOp } from '../../ops.ts';

export const MAP_UNIFORM_BYTES = 208;

export function mapKernel(op: MapOp): string {
  const def = MAP_OPS[op];
  const inputs = Array.from({ length: def.arity }, (_, k) => `@group(0) @binding(${k + 1}) var<storage, read> a${k}: array<f32>;`).join('\n');
  const indexUpdates = Array.from({ length: def.arity }, (_, k) => `    i${k} += c * p.in_st[${2 * k}u + d / 4u][d % 4u];`).join('\n');
  const loads = Array.from({ length: 3 }, (_, k) => (k < def.arity ? `  let x${k} = a${k}[i${k}];` : `  let x${k} = 0.0;`)).join('\n');
  return /* wgsl */ `
struct P {
  hdr: vec4<u32>,   // n, rank, out offset, -
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
  var rem = i;
  var o = p.hdr.z;
  var i0 = p.offs.x;
  var i1 = p.offs.y;
  var i2 = p.offs.z;
  for (var k = 0u; k < p.hdr.y; k++) {
    let d = p.hdr.y - 1u - k;
    let size = p.shape[d / 4u][d % 4u];
    let c = rem % size;
    rem = rem / size;
    o += c * p.out_st[d / 4u][d % 4u];
${indexUpdates}
  }
${loads}
  out[o] = ${def.wgsl};
}`;
}
