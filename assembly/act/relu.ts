// relu: h = max(u,0), H = max(u,0)²/2, h' = [u > 0], h'' = 0.

import { splat, vkeepNaN, skeepNaN, vrelu, srelu } from "./common";

// @ts-ignore: decorator
@final export class Relu {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 8; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const r = vrelu(u);
    if (wh) v128.store(h + o, r);
    if (wH) v128.store(H + o, f32x4.mul(f32x4.mul(r, splat(0.5)), r));
    if (w1) v128.store(d1 + o, vkeepNaN(u, v128.and(f32x4.gt(u, splat(0)), splat(1))));
    if (w2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const r = srelu(u);
    if (wh) store<f32>(h + o, r);
    if (wH) store<f32>(H + o, (r * 0.5) * r);
    if (w1) store<f32>(d1 + o, skeepNaN(u, u > 0 ? 1 : 0));
    if (w2) store<f32>(d2 + o, skeepNaN(u, 0));
  }
}
