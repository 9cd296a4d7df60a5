// A module owns named parameters and child modules; parameters() walks them
// in a fixed order so state dicts and optimizers line up across runs.
import { keep } from '../autograd.ts';
import { Tensor, getDefaultBackend } from '../tensor.ts';
import type { Backend } from '../backend.ts';

export abstract class Module {
  protected readonly params = new Map<string, Tensor>();
  protected readonly children = new Map<string, Module>();
  constructor(readonly backend: Backend = getDefaultBackend()) {}

  protected param(name: string, t: Tensor): Tensor {
    keep(t).trainable();
    this.params.set(name, t);
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Plain typed arrays by name, for checkpoints. */
  async stateDict(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of this.namedParameters()) out[name] = { shape: [...t.shape], data: await t.toArray() };
    return out;
  }
  loadStateDict(state: Record<string, { shape: readonly number[]; data: Float32Array }>): void {
    for (const [name, t] of this.namedParameters()) {
      const entry = state[name];
      if (!entry) throw new Error(`state dict has no entry '${name}'`);
      if (entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`state dict entry '${name}' has shape [${entry.shape.join(',')}], the model expects [${t.shape.join(',')}]`);
      }
      t.backend.write(t.storage, entry.data);
    }
    const known = new Set(this.namedParameters().map(([n]) => n));
    const extra = Object.keys(state).filter((k) => !known.has(k));
    if (extra.length) throw new Error(`state dict has entries the model does not: ${extra.join(', ')}`);
  }
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
  }
}
