// square: h = u², H = u³/3, h' = 2u, h'' = 2.
// u³/3 as (u·u)·(u/3): no intermediate overflows unless u³/3 itself does.

import { splat, vkeepNaN, skeepNaN } from "./common";

// @ts-ignore: decorator
@final export class Square {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 4; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const uu = f32x4.mul(u, u);
    if (wh) v128.store(h + o, uu);
    if (wH) v128.store(H + o, f32x4.mul(uu, f32x4.div(u, splat(3))));
    if (w1) v128.store(d1 + o, f32x4.add(u, u));
    if (w2) v128.store(d2 + o, vkeepNaN(u, splat(2)));
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const uu = u * u;
    if (wh) store<f32>(h + o, uu);
    if (wH) store<f32>(H + o, uu * (u / 3));
    if (w1) store<f32>(d1 + o, u + u);
    if (w2) store<f32>(d2 + o, skeepNaN(u, 2));
  }
}
