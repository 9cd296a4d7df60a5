// AdamW with optional global gradient-norm clipping, one fused kernel per
// parameter. The clip factor stays on the device: no readback per step.
import { keep, noGrad, tidy } from './autograd.ts';
import { globalNorm } from './functional.ts';
import { Tensor } from './tensor.ts';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = off). */
  clipNorm?: number;
}

export class AdamW {
  readonly options: Required<AdamWOptions>;
  private readonly m: Tensor[];
  private readonly v: Tensor[];
  stepCount = 0;

  constructor(
    readonly params: readonly Tensor[],
    options: AdamWOptions = {},
  ) {
    this.options = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 0, ...options };
    this.m = params.map((p) => keep(Tensor.zeros(p.shape, p.backend)));
    this.v = params.map((p) => keep(Tensor.zeros(p.shape, p.backend)));
  }

  /** Applies one update with learning rate `lr` (defaults to options.lr), then clears gradients. */
  step(lr = this.options.lr): void {
    this.stepCount++;
    const withGrad = this.params.filter((p) => p.grad);
    if (withGrad.length === 0) return;
    const o = this.options;
    noGrad(() =>
      tidy(() => {
        let scale: Tensor | null = null;
        if (o.clipNorm > 0) {
          // scale = clip / max(norm, clip): 1 below the threshold.
          const norm = globalNorm(withGrad.map((p) => p.grad!));
          scale = norm.clamp(o.clipNorm, Infinity).rdivScalar(o.clipNorm);
        }
        this.params.forEach((p, i) => {
          if (!p.grad) return;
          if (!p.isContiguous) throw new Error('AdamW: parameters must be contiguous tensors');
          p.backend.adamw(p.storage, p.grad, this.m[i].storage, this.v[i].storage, scale?.storage ?? null, {
            lr,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weightDecay: o.weightDecay,
            step: this.stepCount,
          });
        });
      }),
    );
    this.zeroGrad();
  }

  /** First and second moments, for saving a resumable training state. */
  moments(): { m: readonly Tensor[]; v: readonly Tensor[] } {
    return { m: this.m, v: this.v };
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
