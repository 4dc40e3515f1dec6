// The packed aescore in real runtimes (issue 12 §3): Deno, Bun, workerd and headless Chromium (a
// page and a module Web Worker) each load node_modules/aescore/dist/src/index.js of a project that
// installed the `npm pack` tarball (by relative path: no bundler, no import map) and compute the
// golden digests of test/golden.ts, which test/runtimes.test.ts compares with test/golden.json.
//
// Used by test/runtimes.test.ts, and on its own (after `npm run build` and
// `npm --prefix test/runtimes ci`):
//   node test/runtimes/runner.mjs [deno] [bun] [workerd] [chromium] [threads]
// prints every runtime's result against test/golden.json (all of them without arguments).
//
// Nothing here is imported from test/runtimes/node_modules at load time: a runtime that is not
// installed is reported as missing (with how to install it), not a crash.

import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { existsSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync, rmSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, relative, sep, extname, posix } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const RUNTIMES_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(RUNTIMES_DIR, "..", "..");
const BIN = join(RUNTIMES_DIR, "node_modules", ".bin");
const ENTRY = join(RUNTIMES_DIR, "entry");
export const CHROMIUM = process.env.AESCORE_CHROMIUM ?? "/usr/bin/chromium";
export const INSTALL_RUNTIMES = "npm --prefix test/runtimes ci";
export const INSTALL_CHROMIUM = "apt-get install -y chromium";
/** Flags for headless Chromium (Playwright adds its own temporary profile via launchPersistentContext). */
export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const TIMEOUT = 60_000;

// ---- processes ------------------------------------------------------------------------------------

/** Environment for children: no npm lifecycle variables (npm test's), no colors, no update checks. */
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", ...extra };
}

/** Runs a command to its end (killed after `timeout` ms); never rejects. */
export function run(cmd, args, { cwd, env, timeout = TIMEOUT } = {}) {
  const started = Date.now();
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env: env ?? childEnv(), timeout, killSignal: "SIGKILL", maxBuffer: 64 << 20, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      const signal = err?.signal ?? null;
      const failed = err && typeof err.code !== "number" && !signal ? String(err.message) : "";
      const plain = (t) => t.replace(/\x1b\[[0-9;]*m/g, ""); // runtimes color their errors despite NO_COLOR
      done({ code, signal, stdout: plain(stdout), stderr: plain(stderr + (failed ? `\n${failed}` : "")), ms: Date.now() - started, timedOut: Boolean(err?.killed) });
    });
  });
}

const tail = (s, n = 1500) => (s.length > n ? `…${s.slice(-n)}` : s).trim();

/** The last line of stdout that parses as a JSON object (a runtime may print warnings before it). */
function lastJson(stdout) {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line);
    } catch {
      // not ours
    }
  }
  return undefined;
}

// ---- what is installed ----------------------------------------------------------------------------

/** The runtimes' executables, or why one is missing and how to install it. */
export function availability() {
  const bin = (name) => (existsSync(join(BIN, name)) ? join(BIN, name) : undefined);
  const playwright = existsSync(join(RUNTIMES_DIR, "node_modules", "playwright-core", "package.json"));
  const missingPackage = (name) => `${name} is not installed under test/runtimes (${INSTALL_RUNTIMES})`;
  const out = {
    deno: bin("deno") ? { path: bin("deno") } : { missing: missingPackage("deno") },
    bun: bin("bun") ? { path: bin("bun") } : { missing: missingPackage("bun") },
    workerd: bin("workerd") ? { path: bin("workerd") } : { missing: missingPackage("workerd") },
    chromium: !playwright
      ? { missing: missingPackage("playwright-core") }
      : !existsSync(CHROMIUM)
        ? { missing: `Chromium is not installed at ${CHROMIUM} (${INSTALL_CHROMIUM}, or point AESCORE_CHROMIUM at a Chromium)` }
        : { path: CHROMIUM },
  };
  return out;
}

/** Version strings of the installed runtimes (missing ones left out). */
export async function versions() {
  const a = availability();
  const out = {};
  const first = (s) => s.trim().split("\n")[0];
  if (a.deno.path) out.deno = first((await run(a.deno.path, ["--version"])).stdout);
  if (a.bun.path) out.bun = first((await run(a.bun.path, ["--version"])).stdout);
  if (a.workerd.path) out.workerd = first((await run(a.workerd.path, ["--version"])).stdout);
  if (a.chromium.path) out.chromium = first((await run(a.chromium.path, ["--version"])).stdout.replace(/^.*unexpected operator\n/m, ""));
  const pw = join(RUNTIMES_DIR, "node_modules", "playwright-core", "package.json");
  if (existsSync(pw)) out["playwright-core"] = JSON.parse(readFileSync(pw, "utf8")).version;
  out.node = process.version;
  return out;
}

// ---- the packed package ---------------------------------------------------------------------------

/** The relative imports of a module (tsc output: static `import … from`, `export … from`, `import "…"`). */
function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\s[^;'"]*?from\s*["']([^"']+)["']/gm)) specs.push(m[1]);
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) specs.push(m[1]);
  const dynamic = /\bimport\s*\(/.test(code);
  return { specs, dynamic };
}

/**
 * The module graph from `entry` (a path under root): every file it loads, relative to root (posix),
 * and every problem a runtime without a resolver would hit (bare names, node: modules, missing files,
 * dynamic imports).
 */
export function moduleGraph(root, entry) {
  const files = [];
  const problems = [];
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const abs = join(root, ...rel.split("/"));
    if (!existsSync(abs)) {
      problems.push(`missing file: ${rel}`);
      return;
    }
    files.push(rel);
    const { specs, dynamic } = importsOf(readFileSync(abs, "utf8"));
    if (dynamic) problems.push(`dynamic import() in ${rel}`);
    for (const s of specs) {
      if (s.startsWith("./") || s.startsWith("../")) visit(posix.normalize(posix.join(posix.dirname(rel), s)));
      else problems.push(`${rel} imports ${JSON.stringify(s)} (not a relative path)`);
    }
  };
  visit(entry);
  return { files: files.sort(), problems };
}

/**
 * Packs the repository (`npm pack`, without `prepare` unless build: the suite has just built) into
 * a fresh temporary folder, installs the tarball into a fresh project there, and copies
 * dist/test/golden.js and the runtime entries next to its node_modules. Returns the project's folder,
 * the tarball's file list and the problems found in the package as packed.
 */
export async function prepare({ build = false, dir } = {}) {
  const started = Date.now();
  const root = dir ?? mkdtempSync(join(tmpdir(), "aescore-runtimes-"));
  const golden = join(REPO, "dist", "test", "golden.js");
  if (!existsSync(golden)) throw new Error(`${golden} is missing: npm run build first`);
  const packArgs = ["pack", "--json", "--pack-destination", root, ...(build ? [] : ["--ignore-scripts"])];
  const pack = await run("npm", packArgs, { cwd: REPO, timeout: 300_000 });
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${tail(pack.stderr)}`);
  const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[")))[0];
  const tarball = join(root, info.filename);
  const project = join(root, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "aescore-runtimes-project", private: true, type: "module" }, null, 2) + "\n");
  const install = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", tarball], { cwd: project, timeout: 120_000 });
  if (install.code !== 0) throw new Error(`npm install of ${info.filename} failed (${install.code}):\n${tail(install.stderr)}`);
  copyFileSync(golden, join(project, "golden.js"));
  for (const f of readdirSync(ENTRY)) copyFileSync(join(ENTRY, f), join(project, f));

  // The package as packed: what the runtimes need must be in it.
  const pkgDir = join(project, "node_modules", "aescore");
  const packed = info.files.map((f) => f.path);
  const problems = [];
  const graph = moduleGraph(project, "node_modules/aescore/dist/src/index.js");
  problems.push(...graph.problems.map((p) => `index.js graph: ${p}`));
  for (const f of ["dist/wasm/aescore-simd.wasm", "dist/wasm/aescore-scalar.wasm", "dist/src/index.d.ts", "README.md"]) {
    if (!packed.includes(f)) problems.push(`not in the tarball: ${f}`);
  }
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  for (const [key, target] of Object.entries(manifest.exports ?? {})) {
    const t = typeof target === "string" ? target : undefined;
    // A pattern ("./dist/wasm/*") must match at least one packed file.
    const found = t?.includes("*") ? packed.some((f) => f.startsWith(t.slice(2, t.indexOf("*")))) : t !== undefined && existsSync(join(pkgDir, t));
    if (t && !found) problems.push(`exports["${key}"] → ${t}: not in the tarball`);
  }
  if (manifest.bin) for (const [name, t] of Object.entries(manifest.bin)) if (!existsSync(join(pkgDir, t))) problems.push(`bin ${name} → ${t}: not in the tarball`);
  // The shipped .wasm files must be the builds embedded in wasm.generated.js.
  try {
    const embedded = await import(pathToFileURL(join(pkgDir, "dist", "src", "engine", "wasm.generated.js")).href);
    for (const [name, b64] of [["simd", embedded.simdWasm], ["scalar", embedded.scalarWasm]]) {
      const file = join(pkgDir, "dist", "wasm", `aescore-${name}.wasm`);
      if (existsSync(file) && !Buffer.from(b64, "base64").equals(readFileSync(file))) problems.push(`dist/wasm/aescore-${name}.wasm differs from the build embedded in wasm.generated.js`);
    }
  } catch (err) {
    problems.push(`wasm.generated.js: ${err.message}`);
  }
  // Not fatal, but worth saying: source maps whose sources are not in the tarball (a runtime's stack
  // trace then names a file the user does not have).
  const notes = [];
  const unmapped = new Set();
  const walk = (d) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, f.name);
      if (f.isDirectory()) walk(abs);
      else if (f.name.endsWith(".js.map")) {
        const map = JSON.parse(readFileSync(abs, "utf8"));
        for (const src of map.sources ?? []) {
          const target = resolve(dirname(abs), map.sourceRoot ?? "", src);
          if (!existsSync(target) && !map.sourcesContent) unmapped.add(relative(pkgDir, target).split(sep).join("/"));
        }
      }
    }
  };
  walk(join(pkgDir, "dist"));
  if (unmapped.size) notes.push(`the source maps (dist/**/*.js.map) name ${unmapped.size} sources that are not in the tarball (e.g. ${[...unmapped].sort().slice(0, 3).join(", ")}): ship src/ or compile with inlineSources`);
  return {
    root,
    project,
    notes,
    tarball,
    graph: graph.files,
    packed,
    size: info.size,
    unpackedSize: info.unpackedSize,
    problems,
    ms: Date.now() - started,
  };
}

export function cleanup(prepared) {
  if (prepared?.root) rmSync(prepared.root, { recursive: true, force: true });
}

// ---- the runtimes ---------------------------------------------------------------------------------

/** A runtime's answer: { result } (the entry's JSON) or { error }, and the time it took. */
function answer(r, what) {
  const result = lastJson(r.stdout);
  if (r.code === 0 && result && !result.error) return { result, ms: r.ms };
  const why = r.timedOut ? `timed out after ${r.ms} ms` : `exit ${r.code ?? r.signal}`;
  return { error: `${what}: ${why}\n${result?.error ?? ""}\n${tail(r.stderr)}\n${tail(r.stdout, 500)}`.trim(), ms: r.ms };
}

export async function runDeno(p) {
  const a = availability().deno;
  if (!a.path) return { missing: a.missing };
  // No permissions at all (the core reads no file, no env); --cached-only: never the network.
  const args = ["run", "--no-prompt", "--cached-only", "--no-config", "cli.mjs"];
  return answer(await run(a.path, args, { cwd: p.project, env: childEnv({ DENO_DIR: join(p.root, "deno-dir") }) }), "deno");
}

export async function runBun(p) {
  const a = availability().bun;
  if (!a.path) return { missing: a.missing };
  const args = ["--no-install", "cli.mjs"];
  return answer(await run(a.path, args, { cwd: p.project, env: childEnv({ BUN_INSTALL_CACHE_DIR: join(p.root, "bun-cache"), DO_NOT_TRACK: "1" }) }), "bun");
}

/** A free TCP port on 127.0.0.1 (closed again; workerd binds it right after). */
function freePort() {
  return new Promise((done, fail) => {
    const s = createNetServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

const capnpString = (s) => JSON.stringify(s);

/** The workerd config: one module worker (worker + compute + golden.js + the library's graph + both .wasm). */
export function workerdConfig(p) {
  const modules = [
    `(name = "worker.mjs", esModule = embed ${capnpString("workerd-worker.mjs")})`,
    `(name = "compute.mjs", esModule = embed ${capnpString("compute.mjs")})`,
    `(name = "golden.js", esModule = embed ${capnpString("golden.js")})`,
    ...p.graph.map((f) => `(name = ${capnpString(f)}, esModule = embed ${capnpString(f)})`),
    ...["simd", "scalar"].map((b) => `(name = "aescore-${b}.wasm", wasm = embed ${capnpString(`node_modules/aescore/dist/wasm/aescore-${b}.wasm`)})`),
  ];
  return `# Generated by test/runtimes/runner.mjs: the packed aescore in a workerd module worker.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")},
  ],
  compatibilityDate = "2025-09-01",
);
`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function runWorkerd(p) {
  const a = availability().workerd;
  if (!a.path) return { missing: a.missing };
  const config = join(p.project, "workerd.capnp");
  writeFileSync(config, workerdConfig(p));
  const started = Date.now();
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(a.path, ["serve", config, "--socket-addr", `http=127.0.0.1:${port}`], { cwd: p.project, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let exited = null;
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code, signal) => (exited = code ?? signal));
    try {
      const deadline = Date.now() + TIMEOUT;
      while (Date.now() < deadline && exited === null) {
        let res;
        try {
          res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(TIMEOUT) });
        } catch {
          await sleep(100); // not listening yet
          continue;
        }
        const text = await res.text();
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = { error: `not JSON (HTTP ${res.status}): ${text.slice(0, 500)}` };
        }
        if (res.ok && !body.error) return { result: body, ms: Date.now() - started };
        return { error: `workerd: HTTP ${res.status}\n${body.error}\n${tail(output)}`, ms: Date.now() - started };
      }
      lastError = exited !== null ? `workerd exited (${exited}) before answering:\n${tail(output)}` : `workerd: no answer in ${TIMEOUT} ms\n${tail(output)}`;
      if (exited === null || !/address already in use|EADDRINUSE/i.test(output)) break;
    } finally {
      if (exited === null) {
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
      }
    }
  }
  return { error: lastError, ms: Date.now() - started };
}

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".json": "application/json", ".wasm": "application/wasm", ".map": "application/json" };

/** A static server of the project folder on 127.0.0.1 (GET only, nothing outside the folder). */
function serve(root) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = resolve(root, "." + path);
    if (req.method !== "GET" || (file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done(server)));
}

/** Headless Chromium: the page (`<script type="module">`) and the module Web Worker, one browser. */
export async function runChromium(p, modes = ["page", "worker"]) {
  const a = availability().chromium;
  if (!a.path) return Object.fromEntries(modes.map((m) => [m, { missing: a.missing }]));
  const { chromium } = await import(pathToFileURL(join(RUNTIMES_DIR, "node_modules", "playwright-core", "index.mjs")).href);
  const server = await serve(p.project);
  const base = `http://127.0.0.1:${server.address().port}`;
  const profile = mkdtempSync(join(p.root, "chromium-profile-"));
  const out = {};
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: a.path, headless: true, args: CHROMIUM_FLAGS, timeout: TIMEOUT, env: childEnv() });
    for (const mode of modes) {
      const started = Date.now();
      const page = await context.newPage();
      const log = [];
      page.on("console", (m) => m.type() === "error" && log.push(`console: ${m.text()}`));
      page.on("pageerror", (e) => log.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => log.push(`request failed: ${r.url()}`));
      try {
        await page.goto(`${base}/${mode}.html`, { timeout: TIMEOUT });
        await page.waitForFunction(() => globalThis.aescoreResult, null, { timeout: TIMEOUT });
        const result = await page.evaluate(() => globalThis.aescoreResult);
        const userAgent = await page.evaluate(() => navigator.userAgent);
        if (result.error) out[mode] = { error: `chromium ${mode}: ${result.error}\n${log.join("\n")}`, ms: Date.now() - started };
        else out[mode] = { result: { ...result, userAgent }, ms: Date.now() - started };
      } catch (err) {
        out[mode] = { error: `chromium ${mode}: ${err.message}\n${log.join("\n")}`, ms: Date.now() - started };
      } finally {
        await page.close();
      }
    }
  } catch (err) {
    for (const mode of modes) out[mode] ??= { error: `chromium: ${err.message}` };
  } finally {
    await context?.close().catch(() => {});
    await new Promise((r) => server.close(r));
  }
  return out;
}

// ---- worker threads (the known Deno issue) --------------------------------------------------------

/** A tiny labelled data set (2 classes of 12 rows, 5 columns) as CSV files in `dir`. */
function tinyData(dir) {
  mkdirSync(dir, { recursive: true });
  const rows = [];
  const labels = [];
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let n = 0; n < 24; n++) {
    const k = n % 2;
    rows.push(Array.from({ length: 5 }, (_, j) => (k ? 0.7 : 0.2) + 0.1 * u() + 0.01 * j).map((v) => v.toFixed(4)).join(","));
    labels.push(String(k));
  }
  writeFileSync(join(dir, "x.csv"), rows.join("\n") + "\n");
  writeFileSync(join(dir, "y.csv"), labels.join("\n") + "\n");
}

/**
 * `aescore train-ae` of the installed package with --workers 2 (one class per worker thread), in
 * `runtime` ("node", "deno" or "bun"): { ok, code, ms, stderr } — ok when it exits 0 and saved the model.
 */
export async function runWorkerThreads(p, runtime) {
  const dir = join(p.root, `threads-${runtime}`);
  tinyData(dir);
  // The command line as the package declares it (its "bin"), not a path guessed here.
  const pkg = join(p.project, "node_modules", "aescore");
  const cli = join(pkg, JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).bin.aescore);
  const save = join(dir, "model.safetensors");
  const args = [cli, "train-ae", "--data", join(dir, "x.csv"), "--labels", join(dir, "y.csv"), "--hidden", "3", "--epochs", "2", "--batch", "6", "--workers", "2", "--save", save, "-q"];
  let cmd;
  let full;
  let env = childEnv();
  if (runtime === "node") [cmd, full] = [process.execPath, args];
  else {
    const a = availability()[runtime];
    if (!a.path) return { missing: a.missing };
    cmd = a.path;
    if (runtime === "deno") [full, env] = [["run", "-A", "--cached-only", "--no-config", ...args], childEnv({ DENO_DIR: join(p.root, "deno-dir") })];
    else [full, env] = [["--no-install", ...args], childEnv({ BUN_INSTALL_CACHE_DIR: join(p.root, "bun-cache") })];
  }
  const r = await run(cmd, full, { cwd: dir, env, timeout: 60_000 });
  const saved = existsSync(save);
  return { ok: r.code === 0 && saved, code: r.code, signal: r.signal, timedOut: r.timedOut, saved, ms: r.ms, stderr: tail(r.stderr, 1200) };
}

// ---- comparison -----------------------------------------------------------------------------------

export function goldenJson() {
  return JSON.parse(readFileSync(join(REPO, "test", "golden.json"), "utf8")).digests;
}

/** Entry-by-entry differences of a runtime's digests (per build) from golden.json: lines, empty if equal. */
export function differences(golden, result) {
  const lines = [];
  for (const backend of result.backends) {
    const got = result.digests[backend] ?? {};
    for (const key of Object.keys(golden).sort()) {
      const w = golden[key];
      const g = got[key];
      if (!g) lines.push(`${backend}: missing ${key}`);
      else if (g.sha256 !== w.sha256 || g.n !== w.n || g.first !== w.first) lines.push(`${backend}: differs ${key}: n ${w.n} → ${g.n}, first ${w.first} → ${g.first}, sha256 ${w.sha256.slice(0, 12)}… → ${g.sha256.slice(0, 12)}…`);
    }
    for (const key of Object.keys(got).sort()) if (!(key in golden)) lines.push(`${backend}: not in golden.json: ${key}`);
  }
  return lines;
}

// ---- on its own -----------------------------------------------------------------------------------

async function main(argv) {
  const wanted = argv.filter((a) => !a.startsWith("--"));
  const all = ["deno", "bun", "workerd", "chromium", "threads"];
  const which = wanted.length ? wanted : all;
  const bad = which.filter((w) => !all.includes(w));
  if (bad.length) throw new Error(`unknown runtime(s) ${bad.join(", ")}; choose from ${all.join(", ")}`);
  const started = Date.now();
  console.log(JSON.stringify(await versions()));
  const p = await prepare({ build: argv.includes("--build") });
  console.log(`packed and installed ${relative(p.root, p.tarball)} (${p.packed.length} files, ${p.size} bytes) in ${p.ms} ms; index.js loads ${p.graph.length} modules`);
  for (const problem of p.problems) console.log(`package problem: ${problem}`);
  for (const note of p.notes) console.log(`package note: ${note}`);
  const golden = goldenJson();
  let failed = 0;
  const show = (name, r) => {
    if (r.missing) return console.log(`${name}: MISSING — ${r.missing}`);
    if (r.error) {
      failed++;
      return console.log(`${name}: ERROR (${r.ms} ms)\n${r.error}`);
    }
    const diff = differences(golden, r.result);
    if (diff.length) failed++;
    console.log(`${name}: ${diff.length ? `${diff.length} DIFFER` : `all ${Object.keys(golden).length} digests equal`} (builds ${r.result.backends.join(", ")}; ${r.ms} ms)${r.result.fromBytes ? `; createEngine() from bytes: ${r.result.fromBytes}` : ""}`);
    for (const line of diff) console.log(`  ${line}`);
  };
  try {
    if (which.includes("deno")) show("deno", await runDeno(p));
    if (which.includes("bun")) show("bun", await runBun(p));
    if (which.includes("workerd")) show("workerd", await runWorkerd(p));
    if (which.includes("chromium")) for (const [mode, r] of Object.entries(await runChromium(p))) show(`chromium ${mode}`, r);
    if (which.includes("threads")) {
      for (const rt of ["node", "deno", "bun"]) {
        const r = await runWorkerThreads(p, rt);
        console.log(`train-ae --workers 2 in ${rt}: ${r.missing ? `MISSING — ${r.missing}` : r.ok ? `ok (${r.ms} ms)` : `FAILED (exit ${r.code ?? r.signal}${r.timedOut ? ", timed out" : ""}, saved: ${r.saved}, ${r.ms} ms)\n${r.stderr}`}`);
      }
    }
  } finally {
    if (!argv.includes("--keep")) cleanup(p);
    else console.log(`kept ${p.root}`);
  }
  console.log(`total ${Date.now() - started} ms`);
  return failed;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (failed) => process.exit(failed ? 1 : 0),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
