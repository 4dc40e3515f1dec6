// The browser demo (examples/browser, npm run demo): its server refuses what it must not serve, its
// float16 model file is read and written exactly, its MNIST framing gives MNIST digits back, and in
// headless Chromium (Debian's, driven by playwright-core from test/runtimes) real MNIST test digits and
// mouse strokes painted on the pad are classified right, the bars and probabilities are shown and the
// probabilities sum to 1, a click on the Fig. 2 surface draws a trajectory to the circle, and a
// missing model or the scalar build shows its message. A screenshot goes to a temporary folder.
// Without Chromium or playwright-core the browser part is skipped with a note (a failure when
// AESCORE_REQUIRE_RUNTIMES is set, as in CI).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadMnist } from "../src/node.js";
import { createEngineSync } from "../src/engine/engine.js";
import { decodeModel } from "../src/model/files.js";
import { predict, scores, classIndices } from "../src/model/csae.js";
import { errorRate } from "../src/train/finetune.js";
import { decodeSafetensors } from "../src/formats/safetensors.js";
import type { Tensor } from "../src/tensor.js";

// dist/test/demo.test.js → the repository's examples/browser and test/runtimes.
const at = (path: string) => new URL(`../../${path}`, import.meta.url);
const server = (await import(at("examples/browser/serve.mjs").href)) as {
  startDemo(o: { port: number }): Promise<{ server: Server; url: string }>;
  lookup(path: string): { file?: string; status?: number; redirect?: string };
};
const { toF16 } = (await import(at("examples/browser/train-model.mjs").href)) as { toF16(x: number): number };
const { frameDigit } = (await import(at("examples/browser/frame.js").href)) as {
  frameDigit(ink: Float32Array, width: number, height: number): Float32Array | undefined;
};
const runner = (await import(at("test/runtimes/runner.mjs").href)) as {
  availability(): { chromium: { path?: string; missing?: string } };
  CHROMIUM_FLAGS: string[];
  RUNTIMES_DIR: string;
};

const modelBytes = readFileSync(at("examples/browser/mnist-csae.safetensors"));
/** The shipped model's MNIST test error as train-model.mjs printed it and the README states it. */
const TEST_ERROR = "1.83";

const mnist = loadMnist("test");
const digit = (n: number): Float32Array => mnist.images.data.slice(n * 784, (n + 1) * 784);

// ---- float16, the file, the framing (Node) ---------------------------------------------------------

/** binary16 bits → value by rebiasing the exponent into a float32's bits (independent of the reader). */
function f16Reference(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exp = (h >> 10) & 0x1f;
  let frac = h & 0x3ff;
  const out = new Uint32Array(1);
  if (exp === 31) out[0] = sign | 0x7f800000 | (frac << 13);
  else if (exp === 0 && frac === 0) out[0] = sign;
  else {
    if (exp === 0) {
      // subnormal: shift until the implicit bit appears
      exp = 1;
      while (!(frac & 0x400)) {
        frac <<= 1;
        exp--;
      }
      frac &= 0x3ff;
    }
    out[0] = sign | ((exp - 15 + 127) << 23) | (frac << 13);
  }
  return new Float32Array(out.buffer)[0];
}

/** All 65536 binary16 patterns through the library's safetensors reader. */
function everyF16(): Float32Array {
  const json = JSON.stringify({ h: { dtype: "F16", shape: [65536], data_offsets: [0, 131072] } });
  const bytes = new Uint8Array(8 + json.length + 131072);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  const view = new DataView(bytes.buffer, 8 + json.length);
  for (let h = 0; h < 65536; h++) view.setUint16(2 * h, h, true);
  return decodeSafetensors(bytes).tensors.h.data as Float32Array;
}

test("F16: the reader gives every binary16 pattern its value; train-model.mjs's writer rounds to nearest even", () => {
  const v = everyF16();
  for (let h = 0; h < 65536; h++) {
    const want = f16Reference(h);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(v[h]), `F16 ${h.toString(16)}: ${v[h]}, want NaN`);
    else assert.ok(Object.is(v[h], want), `F16 ${h.toString(16)}: read ${v[h]}, want ${want}`);
    if (!Number.isNaN(want) && Number.isFinite(want)) assert.is(toF16(want), h, `toF16(${want})`);
  }
  // Between neighbours a < b (positive, finite): the midpoint goes to the even one, anything off it to the nearer.
  for (let h = 0; h < 0x7bff; h++) {
    const [a, b] = [v[h], v[h + 1]];
    const mid = (a + b) / 2; // exact in float32
    assert.is(toF16(mid), h % 2 === 0 ? h : h + 1, `tie at ${mid}`);
    assert.is(toF16(-mid), 0x8000 | (h % 2 === 0 ? h : h + 1), `tie at ${-mid}`);
    assert.is(toF16(Math.fround(mid + (b - a) / 8)), h + 1);
    assert.is(toF16(Math.fround(mid - (b - a) / 8)), h);
  }
  assert.throws(() => toF16(65520), /beyond the largest binary16/); // the tie above 65504 rounds to Inf
  assert.is(toF16(65519), 0x7bff);
  assert.is(toF16(2 ** -26), 0); // below half the smallest subnormal
});

test("the shipped model: W in F16, everything else F32, and the documented test error", () => {
  const n = Number(new DataView(modelBytes.buffer, modelBytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(modelBytes.subarray(8, 8 + n)));
  assert.equal([header.W.dtype, header.bh.dtype, header.br.dtype, header.C.dtype], ["F16", "F32", "F32", "F32"]);
  const m = decodeModel(createEngineSync(), modelBytes, "mnist-csae.safetensors");
  assert.is(m.kind, "csae");
  if (m.kind !== "csae") return;
  const X: Tensor = { shape: [10000, 784], data: mnist.images.data };
  const y = classIndices(Array.from(mnist.labels, String), m.csae.classes, "labels");
  assert.is((100 * errorRate(scores(m.csae, X), 10, y)).toFixed(2), TEST_ERROR);
});

test("frame.js: an MNIST digit painted larger and off-centre is framed back into itself", () => {
  for (let n = 0; n < 50; n++) {
    const d = digit(n);
    const [W, Hh, s, left, top] = [280, 280, 7, 61, 9];
    const big = new Float32Array(W * Hh);
    for (let y = 0; y < 28 * s; y++) for (let x = 0; x < 28 * s; x++) big[(top + y) * W + left + x] = d[Math.floor(y / s) * 28 + Math.floor(x / s)];
    const g = frameDigit(big, W, Hh)!;
    let worst = 0;
    for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(g[i] - d[i]));
    assert.ok(worst < 0.02, `digit ${n}: framed differs from the original by up to ${worst}`);
  }
  assert.is(frameDigit(new Float32Array(100), 10, 10), undefined);
});

test("serve.mjs: the page, dist/src and dist/wasm only", async () => {
  assert.ok(server.lookup("/examples/browser/demo.js").file);
  assert.ok(server.lookup("/dist/src/index.js").file);
  assert.equal(server.lookup("/examples/browser"), { redirect: "/examples/browser/" });
  for (const p of ["/package.json", "/dist/test/golden.js", "/examples/browser/%2e%2e/%2e%2e/package.json", "/examples/browser/..%2F..%2Fsrc%2Findex.ts", "/node_modules/uvu/package.json", "/examples"]) {
    assert.is(server.lookup(p).status, 403, p);
  }
  assert.is(server.lookup("/%ff").status, 400);
  assert.is(server.lookup("/examples/browser/missing.js").status, 404);
  const { server: s, url } = await server.startDemo({ port: 0 });
  try {
    const base = new URL(url).origin;
    assert.is((await fetch(`${base}/dist/src/index.js`)).headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.is((await fetch(`${base}/package.json`)).status, 403);
    assert.is((await fetch(`${base}/examples/browser/`, { method: "POST" })).status, 405);
  } finally {
    await new Promise((r) => s.close(r));
  }
});

// ---- in headless Chromium --------------------------------------------------------------------------

interface Row {
  label: string;
  score: number;
  p: number;
  width: number;
  best: boolean;
}

test("headless Chromium: digits drawn on the pad, the bars, the Fig. 2 trajectory, the error messages", async () => {
  const chromium = runner.availability().chromium;
  if (!chromium.path) {
    if (process.env.AESCORE_REQUIRE_RUNTIMES) assert.unreachable(`chromium: ${chromium.missing} (AESCORE_REQUIRE_RUNTIMES is set)`);
    console.log(`demo.test: the browser part skipped: ${chromium.missing}`);
    return;
  }
  const started = Date.now();
  const pw = await import(pathToFileURL(join(runner.RUNTIMES_DIR, "node_modules", "playwright-core", "index.mjs")).href);
  const { server: s, url } = await server.startDemo({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), "aescore-demo-"));
  const context = await pw.chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: chromium.path, headless: true, args: runner.CHROMIUM_FLAGS, timeout: 60_000, viewport: { width: 1180, height: 860 },
  });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e: Error) => problems.push(`page error: ${e.message}`));
    page.on("console", (m: { type(): string; text(): string }) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    await page.goto(url);
    await page.waitForFunction(() => (window as any).demo?.ready, null, { timeout: 30_000 });
    const state = await page.evaluate(() => ({ errors: (window as any).demo.errors, notes: (window as any).demo.notes, backend: (window as any).demo.backend }));
    assert.equal(state.errors, [], "errors on the page");
    assert.equal(state.notes, []);
    assert.is(state.backend, "simd");

    const rows = (): Promise<Row[]> => page.$$eval("#classes tbody tr", (trs: HTMLTableRowElement[]) => trs.map((tr) => ({
      label: tr.querySelector(".label")!.textContent!,
      score: Number(tr.dataset.score),
      p: Number(tr.dataset.p),
      width: (tr.querySelector(".bar") as HTMLElement).getBoundingClientRect().width,
      best: tr.classList.contains("best"),
    })));
    const shown = async () => ({ rows: await rows(), prediction: await page.textContent("#prediction") });
    const checkShown = (r: { rows: Row[]; prediction: string | null }, want: string, what: string) => {
      assert.is(r.rows.length, 10);
      assert.equal(r.rows.map((x) => x.label), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
      const sum = r.rows.reduce((a, x) => a + x.p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `${what}: the probabilities sum to ${sum}`);
      assert.ok(r.rows.every((x) => Number.isFinite(x.score) && x.width > 0), `${what}: a score bar is missing`);
      const best = r.rows.reduce((a, x) => (x.p > a.p ? x : a));
      assert.is(r.prediction, best.label, `${what}: the prediction shown is not the most probable class`);
      assert.ok(best.best && r.rows.filter((x) => x.best).length === 1, `${what}: the predicted row is not the one highlighted`);
      assert.is(r.prediction, want, `${what}: predicted ${r.prediction}, want ${want}`);
    };

    // Real MNIST test digits (the first of each class), painted on the pad through the drawing path.
    const m = decodeModel(createEngineSync(), modelBytes);
    if (m.kind !== "csae") throw new Error("not a csae");
    for (let c = 0; c < 10; c++) {
      const n = mnist.labels.indexOf(c);
      const node = predict(m.csae, { shape: [1, 784], data: digit(n) })[0];
      const last = await page.evaluate((px: number[]) => (window as any).demo.drawDigit(px), Array.from(digit(n)));
      assert.is(last.prediction, node, `test digit ${n}: the page predicts ${last.prediction}, Node ${node} on the same digit`);
      checkShown(await shown(), String(c), `test digit ${n} (a ${c})`);
    }

    // Mouse strokes: a "1" and a "7", then the clear button.
    const pad = (await page.$("#pad"))!;
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    const stroke = async (points: Array<[number, number]>) => {
      await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
      await page.mouse.up();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    };
    await page.click("#clear");
    await stroke([[150, 40], [140, 240]]);
    checkShown(await shown(), "1", "a mouse-drawn 1");
    await page.click("#clear");
    await stroke([[70, 50], [210, 50], [120, 250]]);
    checkShown(await shown(), "7", "a mouse-drawn 7");
    await page.click("#clear");
    assert.is(await page.textContent("#prediction"), "–");
    assert.ok((await rows()).every((x) => Number.isNaN(x.p)), "the bars stay after Clear");
    await page.evaluate((px: number[]) => (window as any).demo.drawDigit(px), Array.from(digit(mnist.labels.indexOf(7))));

    // The Fig. 2 surface: a click inside the circle runs the dynamics out to the circle.
    const toy = (await page.$("#toy"))!;
    const pixels = () => (document.getElementById("toy") as HTMLCanvasElement).getContext("2d")!.getImageData(0, 0, 400, 400).data;
    await page.evaluate(`window.before = (${pixels})()`);
    const [px, py] = await page.evaluate(() => (window as any).demo.toy.toPixel(0.25, 0.35));
    await toy.click({ position: { x: px, y: py } }); // the canvas is 400 CSS pixels wide, as its bitmap
    const run = await page.evaluate(() => {
      const { trajectory, energies, toPixel } = (window as any).demo.toy;
      const end = trajectory[trajectory.length - 1];
      const [ex, ey] = toPixel(...end).map(Math.round);
      const c = (document.getElementById("toy") as HTMLCanvasElement).getContext("2d")!;
      const [before, after] = [(window as any).before, c.getImageData(0, 0, 400, 400).data];
      let changed = 0;
      for (let i = 0; i < after.length; i += 4) if (before[i] !== after[i] || before[i + 1] !== after[i + 1] || before[i + 2] !== after[i + 2]) changed++;
      return { trajectory, energies, changed, endPixel: Array.from(c.getImageData(ex, ey, 1, 1).data) };
    });
    assert.is(run.trajectory.length, 151);
    assert.ok(Math.abs(run.trajectory[0][0] - 0.25) < 0.02 && Math.abs(run.trajectory[0][1] - 0.35) < 0.02, `starts at ${run.trajectory[0]}`);
    const r = Math.hypot(...(run.trajectory[150] as [number, number]));
    assert.ok(r > 0.85 && r < 1.15, `the trajectory ends at radius ${r}, not on the circle`);
    assert.ok(run.energies[150] > run.energies[0], "the energy did not rise along the trajectory");
    assert.equal(run.endPixel.slice(0, 3), [0xff, 0x4f, 0x9a], "no end marker drawn where the trajectory ends");
    assert.ok(run.changed > 200, `only ${run.changed} pixels of the surface changed`);

    const shot = join(dir, "demo.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.equal(problems, []);
    await page.close();

    // A model that does not load, and the scalar build: both say so; the surface still works.
    const bad = await context.newPage();
    await bad.goto(`${url}?model=missing.safetensors&backend=scalar`);
    await bad.waitForFunction(() => (window as any).demo?.ready, null, { timeout: 30_000 });
    const msgs = await bad.evaluate(() => ({ errors: (window as any).demo.errors, notes: (window as any).demo.notes, toy: Boolean((window as any).demo.toy), text: document.getElementById("messages")!.textContent }));
    assert.match(msgs.errors.join("\n"), /The digit model did not load: missing\.safetensors: HTTP 404/);
    assert.match(msgs.notes.join("\n"), /scalar WebAssembly build/);
    assert.ok(msgs.text.includes("HTTP 404") && msgs.toy, "the messages are not on the page, or the surface did not start");
    await bad.close();

    // dist/ not built: the module graph does not load, and the page says what to do.
    const unbuilt = await context.newPage();
    await unbuilt.route("**/dist/src/index.js", (route: { fulfill(o: object): Promise<void> }) => route.fulfill({ status: 404, body: "not found" }));
    await unbuilt.goto(url);
    await unbuilt.waitForFunction(() => document.getElementById("messages")!.textContent!.length > 0, null, { timeout: 30_000 });
    assert.match((await unbuilt.textContent("#messages"))!, /did not load.*npm run build/);
    await unbuilt.close();
    console.log(`demo.test: Chromium run in ${Date.now() - started} ms; screenshot ${shot}`);
  } finally {
    await context.close().catch(() => {});
    rmSync(join(dir, "profile"), { recursive: true, force: true }); // the screenshot stays
    await new Promise((r) => s.close(r));
  }
});

test.run();
