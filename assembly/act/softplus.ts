// softplus: h = softplus(u), H = -Li2(-e^u), h' = σ(u), h'' = σ(1-σ).
// With t = e^-|u| and F(t) = -Li2(-t): H = F(t) for u <= 0; for u > 0 the inversion formula
// Li2(-e^u) + Li2(-e^-u) = -π²/6 - u²/2 gives H = u²/2 + π²/6 - F(t).

import { vexpn, sexpn, vlog1p, slog1p, vnegLi2Neg, snegLi2Neg, vpi26minus, spi26minus } from "../mathf";
import { splat, vnegAbs, snegAbs, vrelu, srelu, vpick1t } from "./common";

// @ts-ignore: decorator
@final export class Softplus {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 8; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const t = vexpn(vnegAbs(u));
    const d = f32x4.add(t, splat(1));
    if (wh) v128.store(h + o, f32x4.add(vrelu(u), vlog1p(t)));
    if (w1) v128.store(d1 + o, f32x4.div(vpick1t(u, t), d)); // one division
    if (w2) v128.store(d2 + o, f32x4.div(t, f32x4.mul(d, d)));
    if (wH) {
      const F = vnegLi2Neg(t);
      const pos = f32x4.add(f32x4.mul(f32x4.mul(u, splat(0.5)), u), vpi26minus(F));
      v128.store(H + o, v128.bitselect(F, pos, f32x4.le(u, splat(0))));
    }
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const t = sexpn(snegAbs(u));
    const d = t + 1;
    if (wh) store<f32>(h + o, srelu(u) + slog1p(t));
    if (w1) store<f32>(d1 + o, u >= 0 ? 1 / d : t / d);
    if (w2) store<f32>(d2 + o, t / (d * d));
    if (wH) {
      const F = snegLi2Neg(t);
      store<f32>(H + o, u <= 0 ? F : (u * 0.5) * u + spi26minus(F));
    }
  }
}
