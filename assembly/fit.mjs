// Computes, in float64, every constant of assembly/mathf.ts and prints them as exact f32 literals.
// Rerun with `node assembly/fit.mjs` (plain Node, no build) and paste the printed block over the
// constants in mathf.ts; `node assembly/fit.mjs --check` exits non-zero if mathf.ts has drifted.
//
// The one fitted approximation: P(t) ≈ F(t)/t on [0, 1], F(t) = -Li2(-t), by Chebyshev interpolation
// (degree DEG, nodes of the first kind), converted to monomials in t, with coefficients rounded to f32
// from the top degree down, each rounding absorbed by refitting the lower coefficients.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const f32 = Math.fround;
const DEG = 10;

// Li2(w) = sum w^k / k^2 for 0 <= w <= 1/2: the terms shrink at least by half each step.
function li2Small(w) {
  let s = 0;
  let p = w;
  for (let k = 1; k < 200 && p > 1e-20 * s; k++, p *= w) s += p / (k * k);
  return s;
}

/** F(t) = -Li2(-t) for t >= 0, via Landen: Li2(-t) = -ln^2(1+t)/2 - Li2(t/(1+t)). */
export function negLi2Neg(t) {
  const l = Math.log1p(t);
  return 0.5 * l * l + li2Small(t / (1 + t));
}

// F(t)/t, with its Taylor series where t is so small that F(t) loses digits to the division.
function target(t) {
  if (t < 1e-4) return 1 - t / 4 + (t * t) / 9 - (t * t * t) / 16;
  return negLi2Neg(t) / t;
}

// Chebyshev interpolant of g on [0, 1] as monomial coefficients in t (lowest degree first).
function chebToMonomial(g, deg) {
  const N = deg + 1;
  const c = new Array(N).fill(0);
  for (let j = 0; j < N; j++) {
    const th = (Math.PI * (j + 0.5)) / N;
    const y = g((Math.cos(th) + 1) / 2);
    for (let k = 0; k < N; k++) c[k] += (2 / N) * y * Math.cos(k * th);
  }
  c[0] /= 2;
  // T_k(s) as monomials in s, then s = 2t - 1.
  let tPrev = [1];
  let tCur = [0, 1];
  const inS = new Array(N).fill(0);
  inS[0] += c[0];
  if (N > 1) inS[1] += c[1];
  for (let k = 2; k < N; k++) {
    const tNext = new Array(k + 1).fill(0);
    for (let i = 0; i < tCur.length; i++) tNext[i + 1] += 2 * tCur[i];
    for (let i = 0; i < tPrev.length; i++) tNext[i] -= tPrev[i];
    for (let i = 0; i <= k; i++) inS[i] += c[k] * tNext[i];
    tPrev = tCur;
    tCur = tNext;
  }
  // sum a_i (2t - 1)^i, expanded binomially.
  const out = new Array(N).fill(0);
  for (let i = 0; i < N; i++) {
    let binom = 1;
    for (let j = 0; j <= i; j++) {
      out[j] += inS[i] * binom * 2 ** j * (-1) ** (i - j);
      binom = (binom * (i - j)) / (j + 1);
    }
  }
  return out;
}

// Rounds the top coefficient to f32, refits the rest to g(t) - c_top t^top, and so on down.
function fitRounded(g, deg) {
  const fixed = [];
  let rest = g;
  for (let d = deg; d >= 0; d--) {
    const c = chebToMonomial(rest, d);
    const top = f32(c[d]);
    fixed[d] = top;
    const prev = rest;
    rest = (t) => prev(t) - top * t ** d;
  }
  return fixed;
}

// The kernel's evaluation, op for op in f32: Horner from the top, then times t.
function hornerF32(cs, t) {
  let p = cs[cs.length - 1];
  for (let k = cs.length - 2; k >= 0; k--) p = f32(f32(p * t) + cs[k]);
  return p;
}

const P = fitRounded(target, DEG);
let maxPoly = 0;
let maxF32 = 0;
for (let i = 0; i <= 20000; i++) {
  const t = i / 20000;
  const ref = target(t);
  let exact = 0;
  for (let k = DEG; k >= 0; k--) exact = exact * t + P[k];
  maxPoly = Math.max(maxPoly, Math.abs(exact / ref - 1));
  const tf = f32(t);
  maxF32 = Math.max(maxF32, Math.abs(hornerF32(P, tf) / target(tf) - 1));
}

// Cody-Waite: LN2_HI keeps 15 significant bits so that n * LN2_HI is exact for |n| < 2^9.
const LN2_HI = Math.round(Math.LN2 * 2 ** 15) / 2 ** 15;
const LN2_LO = f32(Math.LN2 - LN2_HI);
const PI2_6 = (Math.PI * Math.PI) / 6;
const PI2_6_HI = f32(PI2_6);
const PI2_6_LO = f32(PI2_6 - PI2_6_HI);

const lit = (x) => {
  const s = String(f32(x));
  return /[.e]/.test(s) ? s : s + ".0";
};
const fact = (k) => (k <= 1 ? 1 : k * fact(k - 1));
const lines = [
  `const LOG2E: f32 = ${lit(Math.LOG2E)};`,
  `const LN2_HI: f32 = ${lit(LN2_HI)};`,
  `const LN2_LO: f32 = ${lit(LN2_LO)};`,
  `const SQRT2: f32 = ${lit(Math.SQRT2)};`,
  `const PI2_6_HI: f32 = ${lit(PI2_6_HI)};`,
  `const PI2_6_LO: f32 = ${lit(PI2_6_LO)};`,
  ...[2, 3, 4, 5, 6, 7, 8, 9].map((k) => `const INV_FACT${k}: f32 = ${lit(1 / fact(k))};`),
  ...[3, 5, 7, 9].map((k) => `const INV_${k}: f32 = ${lit(1 / k)};`),
  ...P.map((c, k) => `const LI2_P${k}: f32 = ${lit(c)};`),
];

const check = process.argv.includes("--check");
if (check) {
  const src = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "mathf.ts"), "utf8");
  const missing = lines.filter((l) => !src.includes(l));
  if (missing.length) {
    console.error(`mathf.ts differs from fit.mjs on:\n${missing.join("\n")}`);
    process.exit(1);
  }
  console.log(`mathf.ts constants match (${lines.length})`);
} else {
  console.log(lines.join("\n"));
  console.log(`// F(t)/t fit, degree ${DEG}: max rel error ${maxPoly.toExponential(2)} with f32 coefficients in f64, ` +
    `${maxF32.toExponential(2)} evaluated in f32`);
}
