// Builds both WebAssembly targets of asconfig.json (SIMD and scalar) and embeds their bytes in
// src/engine/wasm.generated.ts, so the core loads the same way in Node, browsers and workers (no paths).
// It also writes src/engine/kernels.generated.ts, the typed interface of the module's exports: names,
// parameters and doc comments from the sources (every exported function needs a /** one-line */
// doc), checked against the export section and function types of both compiled modules.
import asc from "assemblyscript/asc";
import { readFileSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
mkdirSync("build", { recursive: true });

function fail(message) {
  process.stderr.write(`assembly/build.mjs: ${message}\n`);
  process.exit(1);
}

function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const wasm = {};
for (const target of ["simd", "scalar"]) {
  const { error, stderr } = await asc.main(["--config", "asconfig.json", "--target", target]);
  if (error) {
    process.stderr.write(stderr.toString());
    fail(`asc failed for target ${target}: ${error.message}`);
  }
  wasm[target] = readFileSync(`build/aescore.${target}.wasm`);
}

// ---- the exports as the sources declare them ---------------------------------------------------
// The entry file's own exported functions, then those of each `export * from "./x"` in order.

// AssemblyScript parameter/result types of the exports -> wasm value type (wasm32).
const WASM_TYPE = { i32: "i32", u32: "i32", isize: "i32", usize: "i32", bool: "i32", i64: "i64", u64: "i64", f32: "f32", f64: "f64" };

function sourceExports(file, seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, "utf8");
  const out = [];
  const declared = [...text.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
  const documented = new Map();
  const re = /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*export function (\w+)\s*\(([^)]*)\)\s*:\s*(\w+)/g;
  for (const m of text.matchAll(re)) {
    const doc = m[1].split("\n").map((l) => l.replace(/^\s*\*?\s?/, "").trim()).join(" ").replace(/\s+/g, " ").trim();
    const params = m[3].split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => {
      const pm = /^(\w+)\s*:\s*(\w+)$/.exec(p);
      if (!pm || !(pm[2] in WASM_TYPE)) fail(`${file}: export ${m[2]}: parameter "${p}" is not "name: <wasm number type>"`);
      return { name: pm[1], type: pm[2] };
    });
    if (m[4] !== "void" && !(m[4] in WASM_TYPE)) fail(`${file}: export ${m[2]}: result type ${m[4]} is not a wasm number type`);
    documented.set(m[2], { name: m[2], doc, params, result: m[4], file });
  }
  for (const name of declared) {
    const e = documented.get(name);
    if (!e) fail(`${file}: export ${name} needs a /** doc comment */ right before it`);
    out.push(e);
  }
  for (const m of text.matchAll(/^export \* from "(\.[^"]+)";/gm)) {
    out.push(...sourceExports(join(dirname(file), `${m[1]}.ts`), seen));
  }
  return out;
}

const asconfig = JSON.parse(readFileSync("asconfig.json", "utf8"));
const declared = asconfig.entries.flatMap((entry) => sourceExports(entry));

// ---- the exports as a compiled module has them ---------------------------------------------------
// Just enough of the binary format: the type, import, function and export sections.

function moduleExports(bytes) {
  let p = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const VAL = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128" };
  const types = [];
  const funcTypes = []; // type index per function index (imports first)
  const exports = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        if (bytes[p++] !== 0x60) fail("type section: not a function type");
        const params = [];
        for (let k = u32(); k > 0; k--) params.push(VAL[bytes[p++]]);
        const results = [];
        for (let k = u32(); k > 0; k--) results.push(VAL[bytes[p++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) funcTypes.push(u32());
        else if (kind === 1) { p++; const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 2) { const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 3) p += 2;
        else fail(`import section: unknown kind ${kind}`);
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) exports.push({ name: name(), kind: bytes[p++], index: u32() });
    }
    p = end;
  }
  return exports.map((e) => ({ name: e.name, kind: e.kind, type: e.kind === 0 ? types[funcTypes[e.index]] : undefined }));
}

const KINDS = { 0: "function", 1: "table", 2: "memory", 3: "global" };
let others = null; // the non-function exports, by name -> kind (the same in both targets)
for (const [target, bytes] of Object.entries(wasm)) {
  const have = moduleExports(bytes);
  const funcs = new Map(have.filter((e) => e.kind === 0).map((e) => [e.name, e.type]));
  for (const d of declared) {
    const t = funcs.get(d.name);
    if (!t) fail(`${d.file}: ${d.name} is not exported by the ${target} module`);
    const want = { params: d.params.map((q) => WASM_TYPE[q.type]), results: d.result === "void" ? [] : [WASM_TYPE[d.result]] };
    if (JSON.stringify(want) !== JSON.stringify(t)) {
      fail(`${d.name}: the sources say ${JSON.stringify(want)}, the ${target} module ${JSON.stringify(t)}`);
    }
    funcs.delete(d.name);
  }
  if (funcs.size > 0) fail(`the ${target} module exports functions the sources do not declare: ${[...funcs.keys()].join(", ")}`);
  const rest = JSON.stringify(have.filter((e) => e.kind !== 0).map((e) => [e.name, KINDS[e.kind]]));
  if (others !== null && rest !== others) fail(`the targets' non-function exports differ: ${others} vs ${rest}`);
  others = rest;
}

// ---- the generated files -------------------------------------------------------------------------

const TS_TYPE = { i64: "bigint", u64: "bigint" };
const tsType = (t) => TS_TYPE[t] ?? "number";
const TS_KIND = { memory: "WebAssembly.Memory", table: "WebAssembly.Table", global: "WebAssembly.Global" };
const members = declared.map((d) => {
  const params = d.params.map((q) => `${q.name}: ${tsType(q.type)}`).join(", ");
  return `  /** ${d.doc} */\n  ${d.name}(${params}): ${d.result === "void" ? "void" : tsType(d.result)};\n`;
});
for (const [name, kind] of JSON.parse(others)) {
  members.push(`  /** The module's ${kind} export${kind === "memory" ? " (the host's memory, imported and re-exported)" : ""}. */\n  readonly ${name}: ${TS_KIND[kind]};\n`);
}
writeAtomic("src/engine/kernels.generated.ts", `// Generated by assembly/build.mjs from the sources in assembly/ (checked against both compiled
// modules' exports): do not edit. Pointers are byte offsets into the module's memory.

/** Every export of the kernel module (SIMD and scalar builds alike), with its doc comment. */
export interface KernelExports {
${members.join("")}}
`);

// Typed as string, so the declaration file does not repeat the literal.
writeAtomic("src/engine/wasm.generated.ts", `// Generated by assembly/build.mjs from assembly/: do not edit.
export const simdWasm: string = "${wasm.simd.toString("base64")}";
export const scalarWasm: string = "${wasm.scalar.toString("base64")}";
`);
// The same builds as files, for runtimes that take a precompiled WebAssembly.Module (edge workers).
mkdirSync("dist/wasm", { recursive: true });
for (const target of ["simd", "scalar"]) writeAtomic(`dist/wasm/aescore-${target}.wasm`, wasm[target]);
console.log(`wasm: simd ${wasm.simd.length} bytes, scalar ${wasm.scalar.length} bytes; ${declared.length} kernel exports`);
