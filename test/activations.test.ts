import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import {
  createEngineSync, alloc, fromArray, activation, ACTIVATIONS, InputError, ShapeError,
  type Activation, type Engine, type Mat,
} from "../src/index.js";
import { reference, cancellationScale, type Ref } from "./reference.js";

// Tolerance policies (XNNPACK style, named):
// - REL: exp/log-based kernels (sigmoid, tanh, softplus, sync): |k - r| <= REL * max(|r|, scale) + FLOOR,
//   scale = the largest cancelling term (reference.ts), FLOOR = 2^-126: below the smallest normal f32
//   a value has no relative precision left (e.g. σ'(±100) = 3.7e-44 is subnormal; sync's h'' for
//   |u| > 9.33 is ~1e-35 built from a subnormal e^-u², accurate to 2e-41 absolute).
//   Where f32(r) overflows, the kernel must give that same ±Inf.
// - ULP: linear, square, relu, modulus are exact in f32 or nearly: at most ULPS[output] ulps from f32(r).
const REL = 2e-6;
const FLOOR = 2 ** -126;
const EXACT_ONES = new Set<Activation>(["linear", "square", "relu", "modulus"]);
const ULPS: Record<string, Partial<Record<keyof Ref, number>>> = {
  linear: { h: 0, H: 1, d1: 0, d2: 0 },
  square: { h: 0, H: 2, d1: 0, d2: 0 }, // (u·u)·(u/3): three roundings
  relu: { h: 0, H: 1, d1: 0, d2: 0 },
  modulus: { h: 0, H: 1, d1: 0, d2: 0 },
};
const KEYS = ["h", "H", "d1", "d2"] as const;
type Key = (typeof KEYS)[number];

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 784 * 100];
const RANGES: Array<[number, number]> = [[-1, 1], [-10, 10], [-30, 30]];
const EDGES = [0, -0, 1e-6, 1e-3, 0.5, 0.55, 1, 20, 50, 88, 100, 1e4, 3e38].flatMap((x) => (x === 0 ? [x] : [x, -x]));

const simd = createEngineSync({ backend: "simd" });
const scalar = createEngineSync({ backend: "scalar" });

// mulberry32: a tiny seeded generator, so every run tests the same numbers.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * r();
  return x;
}

// Magnitudes spread over 1e-30 .. 1e30 with random signs: reaches every branch of every core.
function logUniform(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() < 0.5 ? -1 : 1) * 10 ** (-30 + 60 * r());
  return x;
}

function nanMat(e: Engine, name: string, n: number): Mat {
  const m = alloc(e, name, 1, n);
  m.data.fill(NaN);
  return m;
}

/** Runs one activation on `u` with all four outputs (NaN-prefilled); returns copies. */
function run(e: Engine, name: Activation, u: ArrayLike<number>): Record<Key, Float32Array> {
  const mark = e.top;
  const U = fromArray(e, "U", 1, u.length, u);
  const out = { h: nanMat(e, "h", u.length), H: nanMat(e, "H", u.length), d1: nanMat(e, "d1", u.length), d2: nanMat(e, "d2", u.length) };
  activation(name, U, out);
  const res = { h: out.h.data.slice(), H: out.H.data.slice(), d1: out.d1.data.slice(), d2: out.d2.data.slice() };
  e.top = mark;
  return res;
}

// Ordered integer of an f32, so that ulp distance is a subtraction.
const f32buf = new Float32Array(1);
const i32buf = new Int32Array(f32buf.buffer);
function ordered(x: number): number {
  f32buf[0] = x;
  const i = i32buf[0];
  return i < 0 ? -0x80000000 - i : i;
}
function ulpDiff(a: number, b: number): number {
  return Math.abs(ordered(a) - ordered(b));
}

// Per activation/output/label: the largest error seen (relative, or ulps), printed with ACT_REPORT=1.
const worst = new Map<string, number>();
function note(key: string, err: number): void {
  if (!(err <= (worst.get(key) ?? -1))) worst.set(key, err);
}

/** Checks kernel outputs against the reference; returns the first failure as text, or "". */
function check(name: Activation, u: Float32Array, got: Record<Key, Float32Array>, label: string): string {
  for (let i = 0; i < u.length; i++) {
    const r = reference(name, u[i]);
    const sc = cancellationScale(name, u[i]);
    for (const k of KEYS) {
      const g = got[k][i];
      const want = r[k];
      const w32 = Math.fround(want);
      let ok: boolean;
      if (Number.isNaN(want)) {
        ok = Number.isNaN(g);
      } else if (EXACT_ONES.has(name)) {
        const d = ulpDiff(g, w32);
        note(`${name} ${k} ${label} ulp`, d);
        ok = d <= ULPS[name][k]!;
      } else if (!Number.isFinite(w32)) {
        ok = g === w32;
      } else {
        const err = Math.abs(g - want);
        const scale = Math.max(Math.abs(want), sc[k]);
        if (Math.abs(want) >= FLOOR) note(`${name} ${k} ${label} rel`, err / scale);
        ok = err <= REL * scale + FLOOR;
      }
      if (!ok) return `${name} ${k}(${u[i]}) = ${g}, reference ${want} (${label}, index ${i} of ${u.length})`;
    }
  }
  return "";
}

for (const name of ACTIVATIONS) {
  test(`${name}: every output matches the float64 reference over the size matrix and ranges`, () => {
    let seed = 1;
    for (const n of SIZES) {
      const ranges = n > 1000 ? [RANGES[2]] : RANGES;
      for (const [lo, hi] of ranges) {
        const u = uniform(n, lo, hi, seed++);
        const msg = check(name, u, run(simd, name, u), `[${lo},${hi}]`);
        assert.is(msg, "");
      }
    }
  });

  test(`${name}: edge values and NaN`, () => {
    const u = Float32Array.from([...EDGES, NaN, 12, -12, 11.9, 13, 1e19, -1e19, 2e19, 0.0625]);
    for (const e of [simd, scalar]) assert.is(check(name, u, run(e, name, u), "edges"), "");
    const wide = logUniform(4000, 99);
    assert.is(check(name, wide, run(simd, name, wide), "1e-30..1e30"), "");
  });
}

function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}
// Bitwise equality, except that two NaNs are equal whatever their payloads (wasm leaves NaN bits
// nondeterministic).
function sameBits(a: Float32Array, b: Float32Array): number {
  const ia = bits(a);
  const ib = bits(b);
  for (let i = 0; i < a.length; i++) {
    if (ia[i] !== ib[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

const MIXED = (() => {
  const parts = [uniform(1000, -1, 1, 7), uniform(1000, -30, 30, 8), logUniform(1000, 9)];
  const all = new Float32Array(3000 + EDGES.length + 3);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  all.set([...EDGES, NaN, 12, -12], o);
  return all;
})();

test("SIMD and scalar builds agree bit for bit, and repeated calls too", () => {
  for (const name of ACTIVATIONS) {
    for (const len of [MIXED.length, 37, 3]) {
      const u = MIXED.subarray(0, len);
      const a = run(simd, name, u);
      const b = run(scalar, name, u);
      const again = run(simd, name, u);
      for (const k of KEYS) {
        const i = sameBits(a[k], b[k]);
        assert.is(i, -1, `${name} ${k}(${u[i]}): simd ${a[k][i]} scalar ${b[k][i]}`);
        assert.is(sameBits(a[k], again[k]), -1, `${name} ${k}: repeated call differs`);
      }
    }
  }
});

test("every subset of outputs equals the fused call; absent outputs are skipped (their buffers stay NaN)", () => {
  const u = MIXED.subarray(0, 203);
  for (const e of [simd, scalar]) {
    for (const name of ACTIVATIONS) {
      const full = run(e, name, u);
      for (let mask = 1; mask < 16; mask++) {
        const asked = KEYS.filter((_, b) => mask & (1 << b));
        const mark = e.top;
        const U = fromArray(e, "U", 1, u.length, u);
        const bufs = { h: nanMat(e, "h", u.length), H: nanMat(e, "H", u.length), d1: nanMat(e, "d1", u.length), d2: nanMat(e, "d2", u.length) };
        activation(name, U, Object.fromEntries(asked.map((k) => [k, bufs[k]])));
        for (const k of KEYS) {
          if (asked.includes(k)) assert.is(sameBits(bufs[k].data, full[k]), -1, `${name} ${k} with {${asked}} differs from the fused call`);
          else assert.ok(bufs[k].data.every(Number.isNaN), `${name}: ${k} written when only {${asked}} was asked`);
        }
        e.top = mark;
      }
    }
  }
});

test("an empty input is a no-op", () => {
  const U = alloc(simd, "U", 0, 5);
  const h = alloc(simd, "h", 0, 5);
  activation("sigmoid", U, { h });
});

test("any output may be the input itself (in place)", () => {
  const u = MIXED.subarray(0, 101);
  for (const e of [simd, scalar]) {
    for (const name of ACTIVATIONS) {
      const full = run(e, name, u);
      for (const k of KEYS) {
        const mark = e.top;
        const U = fromArray(e, "U", 1, u.length, u);
        const rest = Object.fromEntries(KEYS.filter((o) => o !== k).map((o) => [o, nanMat(e, o, u.length)]));
        activation(name, U, { ...rest, [k]: U });
        assert.is(sameBits(U.data, full[k]), -1, `${name}: ${k} in place differs`);
        for (const o of KEYS) if (o !== k) assert.is(sameBits(rest[o].data, full[o]), -1, `${name}: ${o} differs when ${k} is in place`);
        e.top = mark;
      }
    }
  }
});

// Derivative chain: the fourth-order central difference (8(f(u+δ) - f(u-δ)) - (f(u+2δ) - f(u-2δ)))/12δ
// of H, h, h' must give h, h', h''. Over the reference in float64 (δ = 1e-3: truncation ~1e-13),
// and over the kernel at f32 grid points (δ = 1/32, u a multiple of 1/8, so u ± kδ are exact f32:
// rounding error ~ 2e-6 |f|, truncation δ⁴ f⁽⁵⁾/30 ~ 2e-6).
function fd(f: (u: number) => number, u: number, d: number): number {
  return (8 * (f(u + d) - f(u - d)) - (f(u + 2 * d) - f(u - 2 * d))) / (12 * d);
}
const CHAIN: Array<[Key, Key]> = [["H", "h"], ["h", "d1"], ["d1", "d2"]];
const KINKED = new Set<Activation>(["relu", "modulus"]);

test("derivative chain of the float64 reference: H' = h, h' = d1, d1' = d2", () => {
  for (const name of ACTIVATIONS) {
    for (let u = -6.03; u <= 6; u += 0.25) {
      if (KINKED.has(name) && Math.abs(u) < 0.01) continue;
      for (const [F, f] of CHAIN) {
        const est = fd((x) => reference(name, x)[F], u, 1e-3);
        const want = reference(name, u)[f];
        assert.ok(Math.abs(est - want) <= 1e-8 * Math.max(1, Math.abs(want)), `${name}: d/du ${F}(${u}) = ${est}, but ${f} = ${want}`);
      }
    }
  }
});

test("derivative chain of the kernels at f32 points: H' = h, h' = d1, d1' = d2", () => {
  const d = 1 / 32;
  const grid: number[] = [];
  for (let u = -6; u <= 6; u += 0.125) grid.push(u);
  for (const name of ACTIVATIONS) {
    const pts = grid.filter((u) => !(KINKED.has(name) && Math.abs(u) <= 2 * d));
    const xs: number[] = [];
    for (const u of pts) xs.push(u - 2 * d, u - d, u, u + d, u + 2 * d);
    for (const e of [simd, scalar]) {
      const out = run(e, name, xs);
      for (let p = 0; p < pts.length; p++) {
        for (const [F, f] of CHAIN) {
          const at = (j: number) => out[F][5 * p + j];
          const est = (8 * (at(3) - at(1)) - (at(4) - at(0))) / (12 * d);
          const want = out[f][5 * p + 2];
          const mag = Math.max(1, Math.abs(at(0)), Math.abs(at(4)));
          assert.ok(Math.abs(est - want) <= 2e-5 * mag, `${name} (${e.backend}): d/du ${F}(${pts[p]}) = ${est}, but ${f} = ${want}`);
        }
      }
    }
  }
});

test("typed errors: unknown name, wrong shapes, foreign engine, partial overlap", () => {
  const U = fromArray(simd, "U", 2, 3, [1, 2, 3, 4, 5, 6]);
  const ok = alloc(simd, "ok", 2, 3);
  const bad = alloc(simd, "bad", 3, 2);
  assert.throws(
    () => activation("gelu" as Activation, U, { h: ok }),
    (err: Error) => err instanceof InputError &&
      err.message === 'activation: unknown activation "gelu"; valid names: sigmoid, tanh, linear, square, relu, modulus, softplus, sync',
  );
  assert.throws(
    () => activation("tanh", U, { h: ok, d1: bad }),
    (err: Error) => err instanceof ShapeError && err.message === "activation tanh: output d1 = bad 3x2 does not match the input U 2x3",
  );
  const other = alloc(scalar, "other", 2, 3);
  assert.throws(
    () => activation("relu", U, { H: other }),
    (err: Error) => err instanceof ShapeError && err.message === "activation relu: output H = other lives in another engine than U",
  );
  const big = alloc(simd, "big", 1, 12);
  const left = { ...big, name: "left", rows: 2, cols: 3 } as Mat;
  const right = { ...big, name: "right", rows: 2, cols: 3, ptr: big.ptr + 8 } as Mat;
  assert.throws(
    () => activation("sigmoid", U, { h: left, d1: right }),
    (err: Error) => err instanceof ShapeError && err.message === "activation sigmoid: outputs h = left and d1 = right overlap",
  );
  const shifted = { ...U, name: "shifted", ptr: U.ptr + 4 } as Mat;
  assert.throws(
    () => activation("sigmoid", U, { H: shifted }),
    (err: Error) => err instanceof ShapeError &&
      err.message === "activation sigmoid: output H = shifted partly overlaps the input U (only exact in-place is allowed)",
  );
});

test("mathf.ts constants are the ones assembly/fit.mjs computes", () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const outText = execFileSync(process.execPath, [join(root, "assembly", "fit.mjs"), "--check"], { encoding: "utf8" });
  assert.match(outText, /constants match/);
});

// The activations' exp (mathf.ts vexpn/sexpn, for x <= 0) must give vexp's bits, on which the
// golden digests were made; `node assembly/check-expn.mjs` checks every x <= 0, this a sample.
test("vexpn and sexpn equal vexp bit for bit on sampled x <= 0 (assembly/check-expn.mjs)", () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const outText = execFileSync(process.execPath, [join(root, "assembly", "check-expn.mjs"), "--stride", "1021"], { encoding: "utf8" });
  assert.match(outText, /bit for bit on sampled x <= 0/);
});

test.after(() => {
  if (!process.env.ACT_REPORT) return;
  for (const [k, v] of [...worst.entries()].sort()) console.log(`${k.padEnd(40)} ${k.endsWith("ulp") ? v : v.toExponential(2)}`);
});

test.run();
