// What a browser loads for aescore's scoring path, gzipped: every dist/src module reached from
// index.js by its static imports (the same walk the runtime tests use), which includes the embedded
// base64 of both WebAssembly builds (wasm.generated.js); then the demo's own files, and the package
// as `npm pack --dry-run` counts it. Run after `npm run build`: node examples/browser/size.mjs
// (gzip at zlib's default level 6, what a server's on-the-fly compression usually uses).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { moduleGraph, REPO } from "../../test/runtimes/runner.mjs";

const kB = (n) => `${(n / 1024).toFixed(1)} KiB`;
const read = (rel) => readFileSync(join(REPO, rel));
const gz = (bytes) => gzipSync(bytes).length;

const graph = moduleGraph(REPO, "dist/src/index.js");
if (graph.problems.length) throw new Error(`the module graph of dist/src/index.js:\n  ${graph.problems.join("\n  ")}`);
const files = graph.files.map((f) => ({ f, bytes: read(f) }));
const raw = files.reduce((s, x) => s + x.bytes.length, 0);
const perFile = files.reduce((s, x) => s + gz(x.bytes), 0);
const bundle = gz(Buffer.concat(files.map((x) => x.bytes)));
const embedded = files.find((x) => x.f.endsWith("engine/wasm.generated.js"));
console.log(`core (dist/src/index.js and what it imports: ${files.length} modules; no source maps): ${kB(raw)} raw, ${kB(perFile)} gzipped file by file (as served), ${kB(bundle)} gzipped as one file (as a bundle)`);
console.log(`  of which engine/wasm.generated.js (both builds, base64): ${kB(embedded.bytes.length)} raw, ${kB(gz(embedded.bytes))} gzipped`);
console.log(`  the rest of the core (TypeScript compiled, unminified): ${kB(raw - embedded.bytes.length)} raw, ${kB(perFile - gz(embedded.bytes))} gzipped`);
for (const b of ["simd", "scalar"]) {
  const w = read(`dist/wasm/aescore-${b}.wasm`);
  console.log(`  for comparison, dist/wasm/aescore-${b}.wasm as a file: ${kB(w.length)} raw, ${kB(gz(w))} gzipped`);
}

// A page that imports the scoring modules directly instead of index.js loads only their graph.
const entries = ["dist/src/engine/engine.js", "dist/src/model/files.js", "dist/src/model/csae.js"];
const scoring = [...new Set(entries.flatMap((e) => moduleGraph(REPO, e).files))].map((f) => read(f));
console.log(`  the scoring modules alone (${entries.map((e) => e.slice(9)).join(", ")} and their imports: ${scoring.length} modules): ${kB(scoring.reduce((s, b) => s + b.length, 0))} raw, ${kB(scoring.reduce((s, b) => s + gz(b), 0))} gzipped file by file`);

const demo = ["index.html", "demo.js", "frame.js", "mnist-csae.safetensors", "toy.safetensors"].map((f) => read(`examples/browser/${f}`));
console.log(`the demo's own files (page, scripts, both models): ${kB(demo.reduce((s, b) => s + b.length, 0))} raw, ${kB(demo.reduce((s, b) => s + gz(b), 0))} gzipped; the page in all: ${kB(perFile + demo.reduce((s, b) => s + gz(b), 0))} gzipped`);

// --ignore-scripts: measure the package as built, without prepack's rebuild.
const pack = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))[0];
console.log(`npm pack --dry-run: ${pack.filename}, ${pack.entryCount} files, ${kB(pack.size)} packed, ${kB(pack.unpackedSize)} unpacked`);
