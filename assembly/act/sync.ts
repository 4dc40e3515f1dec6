// sync: h = u s, H = softplus(u²)/2, h' = s + 2u²s(1-s), h'' = 2u s(1-s)(3 + 2u²(1-2s)), s = σ(u²).
// With v = u², t = e^-v: s = 1/(1+t), s(1-s) = t/(1+t)², 1 - 2s = expm1(-v)/(1+t). The derivatives use
// u clamped to ±SYNC_CLAMP (see there); h and H use u itself. u² rounded to f32 is off by up to
// 6e-8 u² absolute, which e^-v would turn into 6e-8 u² relative (4e-6 at u = 8): t is corrected by
// the rounding error of u² (exact by Dekker's product), t(1 - lo) = e^-(v + lo) to first order.
// Known limit: once e^-u² is subnormal (|u| > 9.33, where |h''| < 1e-34) h'' keeps only absolute
// accuracy (error < 2e-41).

import { vexpn, sexpn, vsquareLo, ssquareLo, vexpm1n, sexpm1n, vlog1p, slog1p } from "../mathf";
import { splat, vnegAbs } from "./common";

// For |u| >= SYNC_CLAMP, e^(-u^2) is already 0 in f32, so σ(u^2) = 1 and σ(1-σ) = 0 exactly: the
// derivatives use u clamped here, which avoids Inf * 0 once u^2 overflows and changes no result.
const SYNC_CLAMP: f32 = 12.0;

// @ts-ignore: decorator
@final export class Sync {
  // Vectors per loop iteration when a single output is computed (activations.ts, loop skeleton).
  // @ts-ignore: decorator
  @inline vectors(): i32 { return 4; }

  // @ts-ignore: decorator
  @inline v(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const uc = f32x4.pmin(f32x4.pmax(u, splat(-SYNC_CLAMP)), splat(SYNC_CLAMP)); // = min(max(..)) but for NaN bits
    const v = f32x4.mul(uc, uc);
    const x = vnegAbs(v); // -v: v = uc² >= 0
    const t0 = vexpn(x);
    const t = f32x4.sub(t0, f32x4.mul(t0, vsquareLo(uc, v)));
    const d = f32x4.add(t, splat(1));
    if (wh || w1) {
      const s = f32x4.div(splat(1), d);
      if (wh) v128.store(h + o, f32x4.mul(u, s));
      if (w1) {
        const g = f32x4.div(t, f32x4.mul(d, d));
        v128.store(d1 + o, f32x4.add(s, f32x4.mul(f32x4.add(v, v), g)));
      }
    }
    if (wH) v128.store(H + o, f32x4.add(f32x4.mul(f32x4.mul(u, splat(0.5)), u), f32x4.mul(vlog1p(t), splat(0.5))));
    if (w2) {
      const g = f32x4.div(t, f32x4.mul(d, d));
      const w = f32x4.div(vexpm1n(x, t), d);
      const k = f32x4.add(splat(3), f32x4.mul(f32x4.add(v, v), w));
      v128.store(d2 + o, f32x4.mul(f32x4.mul(f32x4.add(uc, uc), g), k));
    }
  }

  // @ts-ignore: decorator
  @inline s(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool): void {
    const uc = min(max(u, -SYNC_CLAMP), SYNC_CLAMP);
    const v = uc * uc;
    const x = -v;
    const t0 = sexpn(x);
    const t = t0 - t0 * ssquareLo(uc, v);
    const d = t + 1;
    if (wh || w1) {
      const s = <f32>1 / d;
      if (wh) store<f32>(h + o, u * s);
      if (w1) {
        const g = t / (d * d);
        store<f32>(d1 + o, s + (v + v) * g);
      }
    }
    if (wH) store<f32>(H + o, (u * 0.5) * u + slog1p(t) * 0.5);
    if (w2) {
      const g = t / (d * d);
      const w = sexpm1n(x, t) / d;
      const k = <f32>3 + (v + v) * w;
      store<f32>(d2 + o, ((uc + uc) * g) * k);
    }
  }
}
