// The packed package in real runtimes (issue 12 §3): `npm pack` of this build, installed into a fresh
// project, loaded by relative path (node_modules/aescore/dist/src/index.js, no bundler) in Deno, Bun,
// workerd (precompiled wasm module bindings) and headless Chromium (a module page and a module Web
// Worker). Each computes the digests of test/golden.ts with every build it runs, and each must equal
// test/golden.json entry by entry.
//
// The runtimes live in their own package, test/runtimes (`npm --prefix test/runtimes ci`); Chromium is
// Debian's (`apt-get install -y chromium`, or AESCORE_CHROMIUM=path). A missing one is skipped with a
// note, or fails when AESCORE_REQUIRE_RUNTIMES is set (CI). The work is in test/runtimes/runner.mjs,
// which also runs on its own: node test/runtimes/runner.mjs [deno|bun|workerd|chromium|threads].
//
// Also asserted: `aescore train-ae --workers 2` from the tarball in Node, Deno and Bun (worker
// threads; Deno's parentPort has no close(), so the pool ends workers with terminate()).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// ---- the runner (plain JavaScript: only the parts used here are typed) ------------------------------

interface Digest {
  n: number;
  first: string;
  sha256: string;
}
interface Computed {
  backends: string[];
  digests: Record<string, Record<string, Digest>>;
  ms: number;
  fromBytes?: string;
  inWorker?: boolean;
  userAgent?: string;
}
/** A runtime's outcome: missing (with how to install it), an error, or its digests. */
interface Outcome {
  missing?: string;
  error?: string;
  result?: Computed;
  ms?: number;
}
interface Prepared {
  root: string;
  project: string;
  tarball: string;
  graph: string[];
  packed: string[];
  size: number;
  problems: string[];
  notes: string[];
  ms: number;
}
interface Threads {
  missing?: string;
  ok?: boolean;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  saved: boolean;
  ms: number;
  stderr: string;
}
interface Runner {
  availability(): Record<"deno" | "bun" | "workerd" | "chromium", { path?: string; missing?: string }>;
  versions(): Promise<Record<string, string>>;
  prepare(options?: { build?: boolean }): Promise<Prepared>;
  cleanup(p: Prepared | undefined): void;
  runDeno(p: Prepared): Promise<Outcome>;
  runBun(p: Prepared): Promise<Outcome>;
  runWorkerd(p: Prepared): Promise<Outcome>;
  runChromium(p: Prepared, modes?: string[]): Promise<Record<string, Outcome>>;
  runWorkerThreads(p: Prepared, runtime: "node" | "deno" | "bun"): Promise<Threads>;
  goldenJson(): Record<string, Digest>;
  differences(golden: Record<string, Digest>, result: Computed): string[];
  INSTALL_RUNTIMES: string;
  RUNTIMES_DIR: string;
}

// dist/test/runtimes.test.js → the repository's test/runtimes/runner.mjs.
const runnerUrl = new URL("../../test/runtimes/runner.mjs", import.meta.url);
const runner = (await import(runnerUrl.href)) as Runner;
const REQUIRE = Boolean(process.env.AESCORE_REQUIRE_RUNTIMES);
let started = 0;
const golden = runner.goldenJson();
const available = runner.availability();
const anyRuntime = Object.values(available).some((a) => a.path);
const summary: string[] = [];

/** A missing runtime: a failure when CI requires the runtimes, otherwise a note (and the case is skipped). */
function missing(name: string, why: string | undefined): boolean {
  if (!why) return false;
  if (REQUIRE) assert.unreachable(`${name}: ${why} (AESCORE_REQUIRE_RUNTIMES is set)`);
  console.log(`runtimes.test: ${name} skipped: ${why}`);
  summary.push(`${name}: skipped (${why})`);
  return true;
}

// The pack + install, shared by every runtime, made once per run in a temporary folder.
let prepared: Promise<Prepared> | undefined;
let preparedValue: Prepared | undefined;
function project(): Promise<Prepared> {
  prepared ??= runner.prepare().then((p) => (preparedValue = p));
  return prepared;
}

/** Asserts that a runtime's digests equal golden.json for every build it ran. */
function check(name: string, version: string | undefined, r: Outcome): void {
  if (missing(name, r.missing)) return;
  assert.ok(!r.error, `${name}: ${r.error}`);
  const res = r.result!;
  const diff = runner.differences(golden, res);
  const count = Object.keys(golden).length;
  const line = `${name} (${version ?? "?"}): ${diff.length ? `${diff.length} of ${count * res.backends.length} entries differ` : `all ${count} digests equal golden.json`} with builds ${res.backends.join(", ")} (${r.ms} ms)`;
  console.log(`runtimes.test: ${line}`);
  summary.push(line);
  assert.ok(diff.length === 0, `${name} vs golden.json:\n  ${diff.join("\n  ")}`);
  assert.ok(res.backends.includes("simd"), `${name}: SIMD not used (builds ${res.backends.join(", ")})`);
}

let versions: Record<string, string> = {};

test("the runtimes are installed (or skipped with a note)", async () => {
  started = Date.now();
  if (!anyRuntime && missing("every runtime", `${runner.INSTALL_RUNTIMES}; apt-get install -y chromium`)) return;
  versions = await runner.versions();
  console.log(`runtimes.test: versions ${JSON.stringify(versions)}`);
  for (const [name, a] of Object.entries(available)) missing(name, a.missing);
});

test("npm pack: the tarball installs, index.js loads only relative modules, both .wasm builds are in it", async () => {
  if (!anyRuntime) return;
  const p = await project();
  console.log(`runtimes.test: packed and installed ${p.tarball.split("/").pop()} (${p.packed.length} files, ${p.size} bytes) in ${p.ms} ms; index.js loads ${p.graph.length} modules`);
  for (const note of p.notes) console.log(`runtimes.test: package note: ${note}`);
  assert.ok(p.problems.length === 0, `the package as packed:\n  ${p.problems.join("\n  ")}`);
  assert.ok(p.graph.includes("node_modules/aescore/dist/src/engine/wasm.generated.js"), "index.js does not load wasm.generated.js");
});

test("deno: every digest equals golden.json", async () => {
  if (missing("deno", available.deno.missing)) return;
  check("deno", versions.deno, await runner.runDeno(await project()));
});

test("bun: every digest equals golden.json", async () => {
  if (missing("bun", available.bun.missing)) return;
  check("bun", versions.bun, await runner.runBun(await project()));
});

test("workerd: every digest equals golden.json (precompiled modules; compiling bytes is refused)", async () => {
  if (missing("workerd", available.workerd.missing)) return;
  const r = await runner.runWorkerd(await project());
  check("workerd", versions.workerd, r);
  if (r.result) assert.match(r.result.fromBytes ?? "", /^refused/, "workerd compiled the embedded bytes: the module option is not what this run tested");
});

test("chromium: a module page and a module Web Worker, every digest equals golden.json", async () => {
  if (missing("chromium", available.chromium.missing)) return;
  const r = await runner.runChromium(await project());
  check("chromium page", versions.chromium, r.page);
  check("chromium worker", versions.chromium, r.worker);
  assert.ok(r.worker.result?.inWorker, "the worker's digests did not come from a WorkerGlobalScope");
});

test("chromium: fit() on two module Web Workers gives the bits of fit() in one thread, and of Node", async () => {
  if (missing("chromium", available.chromium.missing)) return;
  const r = (await runner.runChromium(await project(), ["fit"])).fit;
  assert.ok(!r.error, r.error);
  const res = r.result as unknown as { digests: Record<string, string>; workersStarted: number; shared: boolean };
  // The same fit here, in Node, on worker_threads and without.
  const lib = await import("../src/index.js");
  const fitModule = await import("../src/train/fit.js");
  const { fitDigests } = (await import(pathToFileURL(join(runner.RUNTIMES_DIR, "entry", "fit.mjs")).href)) as { fitDigests: (l: unknown, f: unknown) => Promise<Record<string, string>> };
  const node = await fitDigests(lib, fitModule);
  assert.is(node.workers0, node.workers2, "Node: 0 and 2 workers differ");
  assert.is(res.digests.workers2, res.digests.workers0, "chromium: 2 Web Workers and this thread differ");
  assert.is(res.digests.workers0, node.workers0, "chromium and Node differ");
  assert.ok(res.workersStarted >= 2, `fit() started ${res.workersStarted} Web Workers`);
  summary.push(`chromium fit() on ${res.workersStarted} Web Workers (rows ${res.shared ? "shared" : "copied"}): the bits of one thread and of Node (${r.ms} ms)`);
});

test("train-ae --workers 2 from the tarball, in Node, Deno and Bun", async () => {
  if (!anyRuntime) return;
  const p = await project();
  for (const rt of ["node", "deno", "bun"] as const) {
    if (rt !== "node" && missing(rt, available[rt].missing)) continue;
    const r = await runner.runWorkerThreads(p, rt);
    assert.ok(r.ok && r.saved, `${rt}: train-ae --workers 2 failed (exit ${r.code ?? r.signal}${r.timedOut ? ", timed out" : ""}, model saved: ${r.saved}):\n${r.stderr}`);
    summary.push(`train-ae --workers 2 in ${rt}: ok (${r.ms} ms)`);
  }
});

test.after(() => {
  runner.cleanup(preparedValue);
  console.log(`runtimes.test: done in ${Date.now() - started} ms`);
});

test.run();
