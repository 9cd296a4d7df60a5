// Reverse-mode autograd on an explicit tape, plus the memory scopes that
// free intermediates. The tape is a flat list in creation order, which is
// already a topological order, so backward is one loop (no recursion to
// overflow the stack on deep graphs).
import type { Tensor } from './tensor.ts';

export interface GradNode {
  inputs: Tensor[];
  /** Gradients for each input, given the gradient of the output; null where none flows. */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

const tape: Tensor[] = [];
let gradEnabled = true;
const scopes: Set<Tensor>[] = [];

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording anything on the tape (inference, optimizer steps). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function recordOnTape(t: Tensor): void {
  tape.push(t);
}

/** Every tensor created is registered with the innermost scope, if any. */
export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes a tensor out of every scope: it lives until disposed by hand. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, isTensor);
  }
}

let tensorCheck: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
export function setTensorCheck(fn: (v: unknown) => v is Tensor): void {
  tensorCheck = fn;
}

/**
 * Runs fn; every tensor it creates is disposed at the end, except those it
 * returns (in a value, array or plain object) and those passed to keep().
 * Synchronous on purpose, like tfjs's tidy: await outside the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, tensorCheck);
  for (const t of scope) {
    if (survivors.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  // Drop disposed tensors from the tape so it never grows across steps.
  let w = 0;
  for (let r = 0; r < tape.length; r++) if (!tape[r].isDisposed) tape[w++] = tape[r];
  tape.length = w;
  return result;
}

/**
 * Backpropagates from a scalar. Leaf tensors with requiresGrad get `.grad`
 * (accumulated, kept outside scopes until zeroGrad/dispose). The tape is
 * consumed: call forward again before the next backward.
 */
export function backward(loss: Tensor, seed: Tensor): void {
  const grads = new Map<Tensor, Tensor>();
  grads.set(loss, seed);
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    for (let i = tape.length - 1; i >= 0; i--) {
      const t = tape[i];
      const g = grads.get(t);
      if (!g || !t.node) continue;
      grads.delete(t);
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (!gi || !input.requiresGrad) return;
        if (input.node) {
          const prev = grads.get(input);
          grads.set(input, prev ? prev.add(gi) : gi);
        } else {
          const prev = input.grad;
          input.grad = keep(prev ? prev.add(gi) : gi.clone());
          prev?.dispose();
        }
      });
    }
  } finally {
    gradEnabled = previous;
    tape.length = 0;
  }
}

export function tapeLength(): number {
  return tape.length;
}
