// The generators and src/math.ts sin/cos give the same bits in Node, Deno and Bun, and the hosts' own
// Math.sin/Math.cos do not: SHA-256 (first 16 hex digits) of sin/cos over 65536 turn fractions and of
// four generated sets at 2% size (train and test images). Run from the repository root after a build:
//   node results/calibration/runtimes.mjs; test/runtimes/node_modules/.bin/deno run -A results/calibration/runtimes.mjs;
//   test/runtimes/node_modules/.bin/bun results/calibration/runtimes.mjs
import { sin, cos } from "../../dist/src/math.js";
import { generate } from "../../dist/src/datasets/generate.js";
const hex = async (a) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(a.buffer, a.byteOffset, a.byteLength))), (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
const t = new Float64Array(2 * 65536);
for (let a = 0; a < 65536; a++) { const x = (2 * Math.PI * a * 256) / 2 ** 24; t[2 * a] = sin(x); t[2 * a + 1] = cos(x); }
const host = new Float64Array(2 * 65536);
for (let a = 0; a < 65536; a++) { const x = (2 * Math.PI * a * 256) / 2 ** 24; host[2 * a] = Math.sin(x); host[2 * a + 1] = Math.cos(x); }
const out = [`sincos ${await hex(t)}`, `host Math.sin/cos ${await hex(host)}`];
for (const n of ["mnist-rot", "mnist-rot-back-image", "rectangles-image", "convex"]) {
  const s = generate(n, { seed: 0, scale: 0.02 });
  out.push(`${n} ${await hex(s.train.X.data)} ${await hex(s.test.X.data)}`);
}
console.log(out.join("\n"));
