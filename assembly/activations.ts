// Hidden-unit activations of docs/math.md §2.1 (evaluated as §2.4 says): one fused kernel per activation computing h(u), its
// antiderivative H(u) (integration constants as in docs/math.md §2.2), h'(u) and h''(u) for n f32 values.
// It does not reduce (the energy's sum over H lives elsewhere) and does not check shapes.
//
// Argument order of every act_<name>(U, n, h, H, d1, d2): the input U, its length n, then the outputs
// in the order h, H, h', h''. U and the outputs hold n f32 each (byte pointers, any alignment); an
// output pointer 0 skips that output; an output may be U itself (in place: each element is read
// before it is written) but must not otherwise overlap U or another output. A NaN input gives NaN in
// every computed output. The SIMD build and the scalar build give bit-identical results (the cores
// of mathf.ts have exact scalar twins).
//
// The formulas live in act/<name>.ts, one @final class per activation whose two @inline methods
// v (f32x4) and s (its scalar twin) store the outputs whose flag (wh, wH, w1, w2) is set, for the
// element(s) at byte offset o. The classes are never instantiated (changetype<A>(0) only names the
// type: the methods do not read `this`), so everything inlines into the loops below.
//
// Loop skeleton (run, both builds from one source): SIMD: `vectors` (4 or 8) x v128 per iteration,
// all loaded before any is computed, then 1 x v128, then the scalar twin for the last n % 4; scalar
// build: the scalar twin throughout. Loading first matters: TurboFan keeps memory operations in
// program order, so a vector loaded after the previous one's store would wait for that whole
// computation; loaded together, the vectors' independent dependency chains (exp's polynomial is a
// long one) get interleaved by its scheduler. More vectors hide more latency until the 16 xmm
// registers spill: each class's vectors() says how many its single-output passes run, 8 for
// sigmoid and softplus (sigmoid's h alone: 44 us per 50000 values with 8, 61 with 4, 75 with 2), 4
// for tanh and sync (heavier: 8 spilled) and three of the cheap four (memory-bound: 4 or 8 made no
// difference), 8 for relu (two dependent operations, pmax and the +0 that makes −0 into +0: 5.6 us
// with 4, 5.2 with 8); passes with several outputs run 4.
//
// Every kernel runs one loop per set of requested outputs, with the set fixed at compile time. The
// four exp-based activations (fused): V8's TurboFan moves a pure value into each conditional block
// that uses it ("node splitting"), so with run-time flags the shared exp would be computed once per
// output (measured 2.7x slower with all four outputs). H shares only e^-|u| with the others, so it
// gets a pass of its own (before the others, or after them when H is U itself); h, h', h'' are
// computed together in one of 7 loops. The four cheap ones (direct): one of 15 loops, since a test
// and branch per output and vector cost more than the work (relu's h alone: 12 us with run-time
// flags, 5 without, per 50000 values).

import { Sigmoid } from "./act/sigmoid";
import { Tanh } from "./act/tanh";
import { Linear } from "./act/linear";
import { Square } from "./act/square";
import { Relu } from "./act/relu";
import { Modulus } from "./act/modulus";
import { Softplus } from "./act/softplus";
import { Sync } from "./act/sync";

// ---- the loop skeleton --------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function run<A>(
  U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const a = changetype<A>(0);
  const one = (wh ? 1 : 0) + (wH ? 1 : 0) + (w1 ? 1 : 0) + (w2 ? 1 : 0) == 1;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (one && a.vectors() == 8) {
      for (; i + 32 <= n; i += 32) {
        const o = <usize>i << 2;
        const u0 = v128.load(U + o);
        const u1 = v128.load(U + o, 16);
        const u2 = v128.load(U + o, 32);
        const u3 = v128.load(U + o, 48);
        const u4 = v128.load(U + o, 64);
        const u5 = v128.load(U + o, 80);
        const u6 = v128.load(U + o, 96);
        const u7 = v128.load(U + o, 112);
        a.v(u0, o, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u2, o + 32, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u3, o + 48, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u4, o + 64, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u5, o + 80, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u6, o + 96, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u7, o + 112, h, H, d1, d2, wh, wH, w1, w2);
      }
    } else {
      for (; i + 16 <= n; i += 16) {
        const o = <usize>i << 2;
        const u0 = v128.load(U + o);
        const u1 = v128.load(U + o, 16);
        const u2 = v128.load(U + o, 32);
        const u3 = v128.load(U + o, 48);
        a.v(u0, o, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u2, o + 32, h, H, d1, d2, wh, wH, w1, w2);
        a.v(u3, o + 48, h, H, d1, d2, wh, wH, w1, w2);
      }
    }
    for (; i + 4 <= n; i += 4) a.v(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
  }
  for (; i < n; i++) a.s(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
}

// One loop per set of outputs (the set's bits: h 1, H 2, h' 4, h'' 8), each its own function: the
// big ones stay wasm functions of their own (AssemblyScript has Binaryen inline a function with one
// caller only up to 200 nodes), so TurboFan compiles just the sets a program uses, each quickly
// (all of sigmoid's sets in one function took ~80 ms to tier up, which a short benchmark warm-up on
// a busy machine did not always cover).
function set1<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h
  run<A>(U, n, h, H, d1, d2, true, false, false, false);
}
function set2<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // H
  run<A>(U, n, h, H, d1, d2, false, true, false, false);
}
function set3<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, H
  run<A>(U, n, h, H, d1, d2, true, true, false, false);
}
function set4<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // d1
  run<A>(U, n, h, H, d1, d2, false, false, true, false);
}
function set5<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, d1
  run<A>(U, n, h, H, d1, d2, true, false, true, false);
}
function set6<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // H, d1
  run<A>(U, n, h, H, d1, d2, false, true, true, false);
}
function set7<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, H, d1
  run<A>(U, n, h, H, d1, d2, true, true, true, false);
}
function set8<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // d2
  run<A>(U, n, h, H, d1, d2, false, false, false, true);
}
function set9<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, d2
  run<A>(U, n, h, H, d1, d2, true, false, false, true);
}
function set10<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // H, d2
  run<A>(U, n, h, H, d1, d2, false, true, false, true);
}
function set11<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, H, d2
  run<A>(U, n, h, H, d1, d2, true, true, false, true);
}
function set12<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // d1, d2
  run<A>(U, n, h, H, d1, d2, false, false, true, true);
}
function set13<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, d1, d2
  run<A>(U, n, h, H, d1, d2, true, false, true, true);
}
function set14<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // H, d1, d2
  run<A>(U, n, h, H, d1, d2, false, true, true, true);
}
function set15<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void { // h, H, d1, d2
  run<A>(U, n, h, H, d1, d2, true, true, true, true);
}

// @ts-ignore: decorator
@inline function fused<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  if (H != 0 && H != U) set2<A>(U, n, 0, H, 0, 0);
  switch ((h != 0 ? 1 : 0) | (d1 != 0 ? 4 : 0) | (d2 != 0 ? 8 : 0)) {
    case 1: set1<A>(U, n, h, 0, d1, d2); break;
    case 4: set4<A>(U, n, h, 0, d1, d2); break;
    case 5: set5<A>(U, n, h, 0, d1, d2); break;
    case 8: set8<A>(U, n, h, 0, d1, d2); break;
    case 9: set9<A>(U, n, h, 0, d1, d2); break;
    case 12: set12<A>(U, n, h, 0, d1, d2); break;
    case 13: set13<A>(U, n, h, 0, d1, d2); break;
  }
  if (H != 0 && H == U) set2<A>(U, n, 0, H, 0, 0);
}

// @ts-ignore: decorator
@inline function direct<A>(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  switch ((h != 0 ? 1 : 0) | (H != 0 ? 2 : 0) | (d1 != 0 ? 4 : 0) | (d2 != 0 ? 8 : 0)) {
    case 1: set1<A>(U, n, h, H, d1, d2); break;
    case 2: set2<A>(U, n, h, H, d1, d2); break;
    case 3: set3<A>(U, n, h, H, d1, d2); break;
    case 4: set4<A>(U, n, h, H, d1, d2); break;
    case 5: set5<A>(U, n, h, H, d1, d2); break;
    case 6: set6<A>(U, n, h, H, d1, d2); break;
    case 7: set7<A>(U, n, h, H, d1, d2); break;
    case 8: set8<A>(U, n, h, H, d1, d2); break;
    case 9: set9<A>(U, n, h, H, d1, d2); break;
    case 10: set10<A>(U, n, h, H, d1, d2); break;
    case 11: set11<A>(U, n, h, H, d1, d2); break;
    case 12: set12<A>(U, n, h, H, d1, d2); break;
    case 13: set13<A>(U, n, h, H, d1, d2); break;
    case 14: set14<A>(U, n, h, H, d1, d2); break;
    case 15: set15<A>(U, n, h, H, d1, d2); break;
  }
}

// ---- the kernels ----------------------------------------------------------------------------------

/** sigmoid: h, H, d1, d2 (n f32 each, 0 = skip) = σ(U), softplus(U), σ', σ'' of U (n f32); outputs may be U. */
export function act_sigmoid(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  fused<Sigmoid>(U, n, h, H, d1, d2);
}

/** tanh: h, H, d1, d2 (n f32 each, 0 = skip) = tanh(U), log cosh(U), tanh', tanh'' of U (n f32); outputs may be U. */
export function act_tanh(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  fused<Tanh>(U, n, h, H, d1, d2);
}

/** linear: h, H, d1, d2 (n f32 each, 0 = skip) = U, U²/2, 1, 0 for U (n f32); outputs may be U. */
export function act_linear(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  direct<Linear>(U, n, h, H, d1, d2);
}

/** square: h, H, d1, d2 (n f32 each, 0 = skip) = U², U³/3, 2U, 2 for U (n f32); outputs may be U. */
export function act_square(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  direct<Square>(U, n, h, H, d1, d2);
}

/** relu: h, H, d1, d2 (n f32 each, 0 = skip) = max(U,0), max(U,0)²/2, [U>0], 0 for U (n f32); outputs may be U. */
export function act_relu(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  direct<Relu>(U, n, h, H, d1, d2);
}

/** modulus: h, H, d1, d2 (n f32 each, 0 = skip) = |U|, sign(U)U²/2, sign(U), 0 for U (n f32); outputs may be U. */
export function act_modulus(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  direct<Modulus>(U, n, h, H, d1, d2);
}

/** softplus: h, H, d1, d2 (n f32 each, 0 = skip) = softplus(U), -Li2(-e^U), σ(U), σ'(U) for U (n f32); outputs may be U. */
export function act_softplus(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  fused<Softplus>(U, n, h, H, d1, d2);
}

/** sync: h, H, d1, d2 (n f32 each, 0 = skip) = Uσ(U²), softplus(U²)/2, h', h'' for U (n f32); outputs may be U. */
export function act_sync(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  fused<Sync>(U, n, h, H, d1, d2);
}
