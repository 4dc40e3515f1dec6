// linear: h = u, H = u²/2, h' = 1, h'' = 0.
// u²/2 as (u/2)·u: one rounding, so it is f32(u²/2) exactly unless u is subnormal.

import { splat, vkeepNaN, skeepNaN } from "./common";

// @ts-ignore: decorator
@final export class Linear {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 4; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    if (wh) v128.store(h + o, u);
    if (wH) v128.store(H + o, f32x4.mul(f32x4.mul(u, splat(0.5)), u));
    if (w1) v128.store(d1 + o, vkeepNaN(u, splat(1)));
    if (w2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    if (wh) store<f32>(h + o, u);
    if (wH) store<f32>(H + o, (u * 0.5) * u);
    if (w1) store<f32>(d1 + o, skeepNaN(u, 1));
    if (w2) store<f32>(d2 + o, skeepNaN(u, 0));
  }
}
