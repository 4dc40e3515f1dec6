// Float64 reference of docs/math.md §2.1's activation table: h, H, h', h'' per activation, written from the
// table's formulas with Math.*. Only rewritten where float64 itself would cancel (named at each
// place), so that it is an oracle for f32 kernels at every input, including |u| up to 3e38.
// Not fast and not reproducible across JS engines (Math.exp may differ in the last f64 bit): tests only.

export interface Ref {
  h: number;
  H: number;
  d1: number;
  d2: number;
}

// σ(u), without 1 + e^-u overflowing for u << 0.
export function sig(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

export function softplus(a: number): number {
  return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
}

// Li2(w) = Σ w^k/k² for |w| <= 1/2 (terms shrink at least by half).
function li2Series(w: number): number {
  let s = 0;
  let p = w;
  for (let k = 1; k < 200; k++, p *= w) {
    const term = p / (k * k);
    s += term;
    if (Math.abs(term) < 1e-18 * Math.abs(s)) break;
  }
  return s;
}

/** F(t) = -Li2(-t) for 0 <= t <= 1: the series for t <= 1/2, else Landen's Li2(-t) = -ln²(1+t)/2 - Li2(t/(1+t)). */
export function negLi2Neg(t: number): number {
  if (t <= 0.5) return -li2Series(-t);
  const l = Math.log1p(t);
  return 0.5 * l * l + li2Series(t / (1 + t));
}

/** -Li2(-e^u) for any real u; for u > 0 by the inversion Li2(-x) + Li2(-1/x) = -π²/6 - ln²(x)/2. */
export function negLi2NegExp(u: number): number {
  if (u <= 0) return negLi2Neg(Math.exp(u));
  return (Math.PI * Math.PI) / 6 + (u * u) / 2 - negLi2Neg(Math.exp(-u));
}

// log cosh u: the table's |u| + softplus(-2|u|) - log 2 cancels to nothing near 0, where
// log1p(cosh u - 1) = log1p(2 sinh²(u/2)) keeps full precision.
function logCosh(u: number): number {
  const a = Math.abs(u);
  if (a < 1) {
    const s = Math.sinh(a / 2);
    return Math.log1p(2 * s * s);
  }
  return a + softplus(-2 * a) - Math.LN2;
}

// 1 - tanh², as 1/cosh² (1 - tanh² cancels for large |u|).
function sech2(u: number): number {
  const c = Math.cosh(u);
  return 1 / (c * c);
}

const refs = {
  // σ(1-σ) as σ(u)σ(-u); 1 - 2σ(u) as -tanh(u/2) (no cancellation near 0).
  sigmoid: (u: number): Ref => {
    const g = sig(u) * sig(-u);
    return { h: sig(u), H: softplus(u), d1: g, d2: g * -Math.tanh(u / 2) };
  },
  tanh: (u: number): Ref => {
    const t = Math.tanh(u);
    const g = sech2(u);
    return { h: t, H: logCosh(u), d1: g, d2: -2 * t * g };
  },
  linear: (u: number): Ref => ({ h: u, H: (u * u) / 2, d1: 1, d2: 0 }),
  square: (u: number): Ref => ({ h: u * u, H: (u * u * u) / 3, d1: 2 * u, d2: 2 }),
  relu: (u: number): Ref => {
    const r = Math.max(u, 0);
    return { h: r, H: (r * r) / 2, d1: u > 0 ? 1 : 0, d2: 0 };
  },
  modulus: (u: number): Ref => ({ h: Math.abs(u), H: (Math.sign(u) * u * u) / 2, d1: Math.sign(u), d2: 0 }),
  softplus: (u: number): Ref => ({ h: softplus(u), H: negLi2NegExp(u), d1: sig(u), d2: sig(u) * sig(-u) }),
  // s(1-s) as σ(v)σ(-v), 1 - 2s as -tanh(v/2), v = u².
  sync: (u: number): Ref => {
    const v = u * u;
    const s = sig(v);
    const g = s * sig(-v);
    return { h: u * s, H: softplus(v) / 2, d1: s + 2 * v * g, d2: 2 * u * g * (3 - 2 * v * Math.tanh(v / 2)) };
  },
};

export type RefName = keyof typeof refs;

/** h, H, h', h'' of activation `name` at u, in float64. NaN in, NaN out. */
export function reference(name: RefName, u: number): Ref {
  if (Number.isNaN(u)) return { h: NaN, H: NaN, d1: NaN, d2: NaN };
  return refs[name](u);
}

/**
 * Size of the largest term each output is a sum of, where terms cancel (else 0): an f32 kernel's
 * error scales with it, not with the result (sync's h'' crosses 0 where 3 = 2v tanh(v/2)).
 */
export function cancellationScale(name: RefName, u: number): Ref {
  if (name === "sync") {
    const v = u * u;
    const g = sig(v) * sig(-v);
    return { h: 0, H: 0, d1: 0, d2: Math.abs(2 * u * g) * (3 + 2 * v * Math.tanh(v / 2)) };
  }
  return { h: 0, H: 0, d1: 0, d2: 0 };
}
