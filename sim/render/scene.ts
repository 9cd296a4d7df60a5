// The three.js scene for a SimWorld: one mesh per registered thing, kept in
// step with physics by sync(). Browser-safe: no Node imports, so the web UI
// can render the same scene with the browser's WebGPU (or WebGL2 fallback).
import * as THREE from 'three/webgpu';
import type { Thing } from '../world.ts';

export interface SceneView {
  scene: THREE.Scene;
  /** Updates every mesh from its body's pose. */
  sync(): void;
  dispose(): void;
}

const geometryCache = new Map<string, THREE.BufferGeometry>();
const materialCache = new Map<number, THREE.Material>();

function geometryFor(thing: Thing): THREE.BufferGeometry {
  const v = thing.visual;
  const key = v.kind === 'box' ? `b${v.half.join(',')}` : `c${v.radius},${v.halfHeight}`;
  let g = geometryCache.get(key);
  if (!g) {
    if (v.kind === 'box') g = new THREE.BoxGeometry(2 * v.half[0], 2 * v.half[1], 2 * v.half[2]);
    else {
      // three's cylinders run along y; the simulator's along z.
      g = new THREE.CylinderGeometry(v.radius, v.radius, 2 * v.halfHeight, 24);
      g.rotateX(Math.PI / 2);
    }
    geometryCache.set(key, g);
  }
  return g;
}

function materialFor(color: number): THREE.Material {
  let m = materialCache.get(color);
  if (!m) {
    m = new THREE.MeshStandardMaterial({ color, roughness: 0.7, metalness: 0.05 });
    materialCache.set(color, m);
  }
  return m;
}

export function buildScene(things: readonly Thing[]): SceneView {
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xdfe6ee);
  const hemi = new THREE.HemisphereLight(0xffffff, 0x6b5a48, 1.6);
  hemi.position.set(0, 0, 1);
  scene.add(hemi);
  const sun = new THREE.DirectionalLight(0xffffff, 1.8);
  sun.position.set(-1, 0.6, 3);
  scene.add(sun);
  const meshes: { mesh: THREE.Mesh; thing: Thing }[] = [];
  for (const thing of things) {
    const mesh = new THREE.Mesh(geometryFor(thing), materialFor(thing.visual.color));
    mesh.matrixAutoUpdate = true;
    scene.add(mesh);
    meshes.push({ mesh, thing });
  }
  const offset = new THREE.Vector3();
  const sync = () => {
    for (const { mesh, thing } of meshes) {
      const p = thing.body.translation();
      const q = thing.body.rotation();
      mesh.quaternion.set(q.x, q.y, q.z, q.w);
      offset.set(thing.offset[0], thing.offset[1], thing.offset[2]).applyQuaternion(mesh.quaternion);
      mesh.position.set(p.x + offset.x, p.y + offset.y, p.z + offset.z);
    }
  };
  sync();
  return {
    scene,
    sync,
    dispose() {
      scene.clear();
    },
  };
}
