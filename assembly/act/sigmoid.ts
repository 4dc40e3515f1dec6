// sigmoid: h = σ(u), H = softplus(u), h' = σ(1-σ), h'' = σ(1-σ)(1-2σ).
// With t = e^-|u|: σ(|u|) = 1/(1+t), σ(-|u|) = t/(1+t), σ(1-σ) = t/(1+t)², 1 - 2σ(|u|) = m/(1+t) with
// m = expm1(-|u|) (accurate near 0), negated for u < 0.

import { vexpn, sexpn, vexpm1n, sexpm1n, vlog1p, slog1p } from "../mathf";
import { splat, vflipBy, sflipBy, vnegAbs, snegAbs, vrelu, srelu, vpick1t } from "./common";

// @ts-ignore: decorator
@final export class Sigmoid {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 8; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const x = vnegAbs(u);
    const t = vexpn(x);
    const d = f32x4.add(t, splat(1));
    if (wh) v128.store(h + o, f32x4.div(vpick1t(u, t), d)); // one division
    if (wH) v128.store(H + o, f32x4.add(vrelu(u), vlog1p(t)));
    if (w1 || w2) {
      const g = f32x4.div(t, f32x4.mul(d, d));
      if (w1) v128.store(d1 + o, g);
      if (w2) v128.store(d2 + o, vflipBy(f32x4.mul(g, f32x4.div(vexpm1n(x, t), d)), u));
    }
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const x = snegAbs(u);
    const t = sexpn(x);
    const d = t + 1;
    if (wh) store<f32>(h + o, u >= 0 ? 1 / d : t / d);
    if (wH) store<f32>(H + o, srelu(u) + slog1p(t));
    if (w1 || w2) {
      const g = t / (d * d);
      if (w1) store<f32>(d1 + o, g);
      if (w2) store<f32>(d2 + o, sflipBy(g * (sexpm1n(x, t) / d), u));
    }
  }
}
