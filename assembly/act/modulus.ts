// modulus: h = |u|, H = sign(u)·u²/2, h' = sign(u), h'' = 0.

import { splat, vkeepNaN, skeepNaN, vabs } from "./common";

// @ts-ignore: decorator
@final export class Modulus {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 4; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const a = vabs(u);
    if (wh) v128.store(h + o, a);
    if (wH) v128.store(H + o, f32x4.mul(f32x4.mul(u, splat(0.5)), a));
    if (w1) {
      const pos = v128.and(f32x4.gt(u, splat(0)), splat(1));
      const neg = v128.and(f32x4.lt(u, splat(0)), splat(-1));
      v128.store(d1 + o, vkeepNaN(u, v128.or(pos, neg)));
    }
    if (w2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const a = abs(u);
    if (wh) store<f32>(h + o, a);
    if (wH) store<f32>(H + o, (u * 0.5) * a);
    if (w1) store<f32>(d1 + o, skeepNaN(u, u > 0 ? 1 : u < 0 ? -1 : 0));
    if (w2) store<f32>(d2 + o, skeepNaN(u, 0));
  }
}
