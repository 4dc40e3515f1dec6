// Helpers shared by the activation formulas (act/*.ts); each f32x4 helper has a scalar twin, here or
// the scalar operation it stands for (vabs: abs, vneg: -x, vpick1t: the ternary in its comment).

import { SIGN } from "../mathf";

// @ts-ignore: decorator
@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}
// v, except u itself where u is NaN: constant outputs must not hide a NaN input.
// @ts-ignore: decorator
@inline export function vkeepNaN(u: v128, v: v128): v128 {
  return v128.bitselect(u, v, f32x4.ne(u, u));
}
// @ts-ignore: decorator
@inline export function skeepNaN(u: f32, v: f32): f32 {
  return u != u ? u : v;
}
// x with its sign bit flipped where u's sign bit is set.
// @ts-ignore: decorator
@inline export function vflipBy(x: v128, u: v128): v128 {
  return v128.xor(x, v128.and(u, i32x4.splat(SIGN)));
}
// @ts-ignore: decorator
@inline export function sflipBy(x: f32, u: f32): f32 {
  return reinterpret<f32>(reinterpret<i32>(x) ^ (reinterpret<i32>(u) & SIGN));
}
// |u|, -u and -|u| as one bit operation with a constant mask: V8 rebuilds the masks of f32x4.abs and
// f32x4.neg for every use (three instructions each); these are the same operations on the sign bit.
// @ts-ignore: decorator
@inline export function vabs(u: v128): v128 {
  return v128.and(u, i32x4.splat(~SIGN));
}
// @ts-ignore: decorator
@inline export function vneg(u: v128): v128 {
  return v128.xor(u, i32x4.splat(SIGN));
}
// @ts-ignore: decorator
@inline export function vnegAbs(u: v128): v128 {
  return v128.or(u, i32x4.splat(SIGN));
}
// @ts-ignore: decorator
@inline export function snegAbs(u: f32): f32 {
  return reinterpret<f32>(reinterpret<i32>(u) | SIGN);
}
// max(u, 0), NaN kept, bit for bit: pmax(u, 0) = (u < 0 ? 0 : u) is one instruction (f32x4.max is
// about eight) and keeps u = -0 as -0; adding +0 turns that into +0 and changes no other value.
// @ts-ignore: decorator
@inline export function vrelu(u: v128): v128 {
  return f32x4.add(f32x4.pmax(u, splat(0)), splat(0));
}
// @ts-ignore: decorator
@inline export function srelu(u: f32): f32 {
  return (u < 0 ? <f32>0 : u) + 0;
}
// u >= 0 ? 1 : t for t = e^-|u| in [0, 1] (NaN kept): pmax(t, 1 or 0) is one instruction on the
// path from t, where a bitselect is two (and, or) plus one off it; t <= 1 makes it the ternary.
// @ts-ignore: decorator
@inline export function vpick1t(u: v128, t: v128): v128 {
  return f32x4.pmax(t, v128.and(f32x4.ge(u, splat(0)), splat(1)));
}
