// Golden fixtures (issue 10 §5): the digests of test/golden.ts, computed with this build, must equal
// the committed test/golden.json entry by entry, with the SIMD and the scalar build alike. A failure
// lists every entry that differs or is missing on either side.
// A deliberate change updates golden.json in the same commit, with the reason in the message
// (npm run build && node dist/test/golden-update.js).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as lib from "../src/index.js";
import { fitCsae, FIT_DEFAULTS } from "../src/train/fit.js";
import { goldenDigests, compareDigests, csaeProblem, csaeArrays, digestAll, REFUSED, D, H, type Digests } from "./golden.js";
import { GOLDEN_PATH, goldenFile } from "./golden-update.js";

const text = readFileSync(GOLDEN_PATH, "utf8");
const golden = (JSON.parse(text) as { digests: Digests }).digests;

function report(what: string, want: Digests, got: Digests): string {
  const { differ, missing, extra } = compareDigests(want, got);
  const lines = [
    ...differ.map((l) => `  differs: ${l}`),
    ...missing.map((k) => `  missing from this build: ${k}`),
    ...extra.map((k) => `  not in golden.json: ${k}`),
  ];
  if (lines.length === 0) return "";
  return `${what}: ${differ.length} differ, ${missing.length} missing, ${extra.length} new (of ${Object.keys(want).length}):\n${lines.join("\n")}\n` +
    "A deliberate change regenerates golden.json (node dist/test/golden-update.js) in the same commit, with the reason in the message.";
}

const builds: Array<lib.Backend> = lib.hasSimd() ? ["simd", "scalar"] : ["scalar"];
const computed: Partial<Record<lib.Backend, Digests>> = {};

for (const backend of builds) {
  test(`${backend} build: every digest equals golden.json`, async () => {
    const got = (computed[backend] = await goldenDigests(lib, { backend }));
    const message = report(`${backend} build vs golden.json`, golden, got);
    assert.ok(message === "", message);
  });
}

test("golden.json has every case and is exactly what golden-update writes", () => {
  const keys = Object.keys(golden);
  for (const act of lib.AE_ACTIVATIONS) {
    for (const output of act === "kmeans" ? ["real"] : ["real", "binary"]) {
      for (const what of ["energy", "field", "laplacian", "hessian0", "hidden", "reconstruct"]) {
        assert.ok(keys.includes(`ae/${act}/${output}/${what}`), `ae/${act}/${output}/${what}`);
      }
    }
  }
  assert.ok(keys.some((k) => k.startsWith("train/")) && keys.some((k) => k.startsWith("csae/")));
  const got = computed.scalar!;
  assert.is(goldenFile(got), text, "golden.json is not in the format golden-update writes");
});

test("fitCsae (workers: 0) gives the digests of the in-thread fit in golden.ts", async () => {
  const p = csaeProblem(lib);
  const e = lib.createEngineSync();
  const m = await fitCsae(e, p.X, p.labels, {
    ...FIT_DEFAULTS, hidden: p.spec.H, activation: p.spec.activation, output: p.spec.output, variant: "csae",
    pretrain: p.pretrain, finetune: p.finetune, seed: p.seed, workers: 0,
  });
  const got = await digestAll(lib, csaeArrays(lib, m, p.probe));
  const want = Object.fromEntries(Object.entries(golden).filter(([k]) => k.startsWith("csae/")));
  const message = report("fitCsae vs golden.json", want, got);
  assert.ok(message === "", message);
});

test("what golden.ts leaves out is still refused", async () => {
  assert.is(REFUSED.length, 5);
  const e = lib.createEngineSync();
  const refused = (f: () => unknown) => assert.throws(f, (err: unknown) => err instanceof lib.InputError);
  refused(() => lib.createAutoencoder(e, { D, H, activation: "kmeans", output: "binary" }));
  const data = { shape: [4, D], data: new Float32Array(4 * D) };
  const kmeans = lib.createAutoencoder(e, { D, H, activation: "kmeans", output: "real" });
  refused(() => lib.trainAutoencoder(kmeans, data, { ...lib.TRAIN_DEFAULTS, epochs: 1 }, lib.startState(kmeans, lib.TRAIN_DEFAULTS, lib.rng(1))));
  for (const activation of ["relu", "modulus"] as const) {
    const ae = lib.createAutoencoder(e, { D, H, activation, output: "real" });
    const o = { ...lib.TRAIN_DEFAULTS, epochs: 1, contractive: 0.1 };
    refused(() => lib.trainAutoencoder(ae, data, o, lib.startState(ae, o, lib.rng(1))));
  }
  const labels = ["0", "1", "0", "1"];
  await fitCsae(e, data, labels, { ...FIT_DEFAULTS, hidden: H, activation: "kmeans", seed: 1, workers: 0 }).then(
    () => assert.unreachable("a kmeans CSAE was fitted"),
    (err: unknown) => assert.ok(err instanceof lib.InputError),
  );
});

test("golden.ts loads on any runtime: no import at run time, WebCrypto only", () => {
  const source = readFileSync(fileURLToPath(new URL("./golden.js", import.meta.url)), "utf8");
  const js = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""); // code only, not comments
  assert.not.match(js, /^\s*import\s|\bimport\(|\brequire\(|node:|process\.|Buffer\b/m);
  assert.match(js, /globalThis\.crypto\.subtle\.digest/);
});

test.run();
