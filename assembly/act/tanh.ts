// tanh: h = tanh u, H = log cosh u, h' = 1 - tanh², h'' = -2 tanh (1 - tanh²).
// With x = -2|u|, t = e^x, m = expm1(x): tanh|u| = -m/(1+t); 1 - tanh² = 4t/(1+t)² (no cancellation
// for large |u|). log cosh: for small |u|, with t1 = e^-|u| = sqrt(t) and m1 = expm1(-|u|) =
// m/(1+t1), cosh u - 1 = m1²/(2 t1); for large |u|, |u| + log1p(t) - log 2. One log1p serves both.

import { SIGN, vexpn, sexpn, vexpm1n, sexpm1n, vlog1p, slog1p, vsubln2, ssubln2 } from "../mathf";
import { splat, vnegAbs, vabs, vneg } from "./common";

// Below this |u|, log cosh u = log1p(cosh u - 1) (accurate near 0, where log cosh ≈ u²/2); above,
// |u| + log1p(e^(-2|u|)) - log 2 (no overflow).
const LOGCOSH_SWITCH: f32 = 1.0;

// @ts-ignore: decorator
@final export class Tanh {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 4; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const x = vnegAbs(f32x4.add(u, u)); // -2|u|, exactly
    const a = vabs(u);
    const t = vexpn(x);
    const m = vexpm1n(x, t);
    const d = f32x4.add(t, splat(1));
    if (wh || w1 || w2) {
      const th = v128.or(f32x4.div(vabs(m), d), v128.and(u, i32x4.splat(SIGN))); // -m = |m|: m <= 0
      if (wh) v128.store(h + o, th);
      if (w1 || w2) {
        const g = f32x4.div(f32x4.mul(t, splat(4)), f32x4.mul(d, d));
        if (w1) v128.store(d1 + o, g);
        if (w2) v128.store(d2 + o, vneg(f32x4.mul(f32x4.add(th, th), g)));
      }
    }
    if (wH) {
      const t1 = f32x4.sqrt(t);
      const m1 = f32x4.div(m, f32x4.add(t1, splat(1)));
      const c = f32x4.mul(m1, f32x4.div(m1, f32x4.add(t1, t1)));
      const small = f32x4.le(a, splat(LOGCOSH_SWITCH));
      const l = vlog1p(v128.bitselect(c, t, small));
      v128.store(H + o, v128.bitselect(l, vsubln2(a, l), small));
    }
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const a = abs(u);
    const x = -(a + a);
    const t = sexpn(x);
    const m = sexpm1n(x, t);
    const d = t + 1;
    if (wh || w1 || w2) {
      const th = reinterpret<f32>(reinterpret<i32>(-m / d) | (reinterpret<i32>(u) & SIGN));
      if (wh) store<f32>(h + o, th);
      if (w1 || w2) {
        const g = (t * 4) / (d * d);
        if (w1) store<f32>(d1 + o, g);
        if (w2) store<f32>(d2 + o, -((th + th) * g));
      }
    }
    if (wH) {
      if (a <= LOGCOSH_SWITCH) {
        const t1 = sqrt(t);
        const m1 = m / (t1 + 1);
        store<f32>(H + o, slog1p(m1 * (m1 / (t1 + t1))));
      } else {
        store<f32>(H + o, ssubln2(a, slog1p(t)));
      }
    }
  }
}
