// A small CNN and a synthetic image→vector regression, shared by the training
// and memory tests: targets are per-channel means and a vertical contrast of
// random 8×8 RGB images, which a conv + linear stack can fit exactly.
import { F, Tensor, nn, tidy, type Backend } from '../../kernels/index.ts';

export class TinyCnn extends nn.Module {
  readonly c1: nn.Conv2d;
  readonly c2: nn.Conv2d;
  readonly norm: nn.GroupNorm;
  readonly head: nn.Linear;
  constructor(backend: Backend, seed = 1) {
    super(backend);
    this.c1 = this.child('c1', new nn.Conv2d(3, 8, 3, { pad: 1, seed, backend }));
    this.norm = this.child('norm', new nn.GroupNorm(2, 8, 1e-5, backend));
    this.c2 = this.child('c2', new nn.Conv2d(8, 8, 3, { stride: 2, pad: 1, seed, backend }));
    this.head = this.child('head', new nn.Linear(4 * 4 * 8, 4, { seed, backend }));
  }
  forward(x: Tensor): Tensor {
    const h1 = this.norm.forward(this.c1.forward(x)).relu();
    const h2 = this.c2.forward(h1, 'relu');
    return this.head.forward(h2.reshape([x.shape[0], -1]));
  }
}

export function syntheticData(n: number, backend: Backend, seed = 3): { x: Tensor; y: Tensor } {
  return tidy(() => {
    const x = Tensor.random([n, 8, 8, 3], 'uniform', seed, backend);
    const means = x.mean([1, 2]); // [n, 3]
    const top = x.slice(1, 0, 4).mean([1, 2, 3]).reshape([n, 1]);
    const bottom = x.slice(1, 4, 8).mean([1, 2, 3]).reshape([n, 1]);
    const y = Tensor.concat([means, top.sub(bottom).mulScalar(4)], 1);
    return { x, y };
  });
}

export function trainStep(model: TinyCnn, opt: import('../../kernels/index.ts').AdamW, x: Tensor, y: Tensor, lr: number): Tensor {
  return tidy(() => {
    const loss = F.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step(lr);
    return loss;
  });
}
