// Proves that mathf.ts's vexpn/sexpn (exp for x <= 0, the activations' exp) give vexp's results bit
// for bit: compiles a small module from mathf.ts itself and compares, for every f32 x <= 0 (all 2^31
// bit patterns with the sign set, -Inf and the negative NaNs among them, and +0), vexpn(x) with
// vexp(x) and sexpn(x) with sexpn's SIMD twin (two NaNs count as equal). About a minute; rerun it
// after touching either core: `node assembly/check-expn.mjs` (exits non-zero on any difference).
// `--stride S` checks every S-th group of 4 patterns only (the test suite's quick version).
import asc from "assemblyscript/asc";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
mkdirSync("build", { recursive: true });

const source = `
import { vexp, vexpn, sexpn } from "../assembly/mathf";

// Lanes (bitmask) where a and b differ, two NaNs being equal.
// @ts-ignore: decorator
@inline function differ(a: v128, b: v128): i32 {
  const same = v128.or(i32x4.eq(a, b), v128.and(f32x4.ne(a, a), f32x4.ne(b, b)));
  return i32x4.bitmask(v128.not(same));
}

// The x among bit patterns lo, lo + 1, ..., lo + 4 count - 1 where the three disagree.
export function mismatches(lo: u32, count: u32): u32 {
  let bad: u32 = 0;
  for (let k: u32 = 0; k < count; k++) {
    const x = i32x4.add(i32x4.splat(lo + (k << 2)), i32x4(0, 1, 2, 3));
    const v = vexpn(x);
    let m = differ(vexp(x), v);
    const s = f32x4(
      sexpn(f32x4.extract_lane(x, 0)), sexpn(f32x4.extract_lane(x, 1)),
      sexpn(f32x4.extract_lane(x, 2)), sexpn(f32x4.extract_lane(x, 3)),
    );
    m |= differ(s, v);
    bad += popcnt(m);
  }
  return bad;
}

// The same for one x, all lanes equal.
export function mismatch1(bits: u32): u32 {
  const x = i32x4.splat(bits);
  const v = vexpn(x);
  return popcnt(differ(vexp(x), v) | differ(f32x4.splat(sexpn(f32x4.extract_lane(x, 0))), v));
}
`;
writeFileSync("build/check-expn.ts", source);
writeFileSync("build/check-expn.asconfig.json", "{}"); // not the project's asconfig.json (its entries)
const { error, stderr } = await asc.main([
  "build/check-expn.ts", "--config", "build/check-expn.asconfig.json", "--runtime", "stub", "--noAssert", "-O3", "--enable", "simd", "--outFile", "build/check-expn.wasm",
]);
if (error) {
  process.stderr.write(stderr.toString());
  process.exit(1);
}
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync("build/check-expn.wasm")), {});
const at = process.argv.indexOf("--stride");
const stride = at < 0 ? 1 : Number(process.argv[at + 1]);
if (!Number.isInteger(stride) || stride < 1) {
  console.error("check-expn: --stride takes a positive integer");
  process.exit(2);
}
let bad = exports.mismatch1(0);
let values = 1;
if (stride === 1) {
  const CHUNK = 1 << 22; // vectors per call: 2^24 patterns
  for (let lo = 0x80000000; lo < 0x100000000; lo += 4 * CHUNK) bad += exports.mismatches(lo >>> 0, CHUNK);
  values += 2 ** 31;
} else {
  for (let lo = 0x80000000; lo < 0x100000000; lo += 4 * stride, values += 4) bad += exports.mismatches(lo >>> 0, 1);
}
if (bad !== 0) {
  console.error(`check-expn: vexpn/sexpn differ from vexp on ${bad} lanes`);
  process.exit(1);
}
console.log(`check-expn: vexpn = vexp = sexpn bit for bit on ${stride === 1 ? "every" : "sampled"} x <= 0 (${values} values)`);
