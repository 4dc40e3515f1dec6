// The benchmark data sets, generated at 1% of their sizes: shapes, ranges, balance, determinism, and
// each recipe's own property checked on the examples themselves.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DATASETS, DATASET_SIZES, BACKGROUNDS, SPLITS, generate, writeDataset, rotate, isConvex, segmentsStayIn, decodePgm,
  type GeneratedSet, type GreyImage,
} from "../src/datasets/generate.js";
import { decodeIdx } from "../src/formats/idx-csv.js";
import { loadMnist } from "../src/node.js";
import { FormatError, InputError } from "../src/errors.js";
import { sameBits } from "./util.js";

const SCALE = 0.01;
const P = 784;
const sets = new Map<string, GeneratedSet>(DATASETS.map((n) => [n, generate(n, { seed: 7, scale: SCALE })]));
const mnistTrain = loadMnist("train").images.data;
const row = (data: Float32Array, i: number): Float32Array => data.subarray(i * P, (i + 1) * P);
type Sources = Record<string, Record<string, number[]>>;
const sources = (s: GeneratedSet): Sources => s.recipe.sources as Sources;
// Digits of the train split come from the MNIST training file (source index < 60000).
const trainDigit = (s: GeneratedSet, i: number): Float32Array => row(mnistTrain, sources(s).train.digit[i]);

for (const name of DATASETS) {
  test(`${name}: shapes, values in [0, 1], labels, class balance`, () => {
    const s = sets.get(name)!;
    const full = DATASET_SIZES[name];
    for (const split of SPLITS) {
      const { X, y } = s[split];
      const n = Math.max(1, Math.round(full[split] * SCALE));
      assert.equal(X.shape, [n, P], split);
      assert.is(X.data.length, n * P);
      assert.is(y.length, n);
      for (const v of X.data) if (!(v >= 0 && v <= 1)) assert.unreachable(`${split}: value ${v}`);
      for (const c of y) assert.ok(c >= 0 && c < full.classes, `${split}: label ${c}`);
    }
    const counts = new Array(full.classes).fill(0);
    for (const c of s.test.y) counts[c]++;
    const even = s.test.y.length / full.classes;
    for (const c of counts) assert.ok(c > 0.6 * even && c < 1.4 * even, `test class counts ${counts}`);
    assert.equal(s.recipe.sizes, { train: s.train.y.length, valid: s.valid.y.length, test: s.test.y.length });
  });

  test(`${name}: the same seed gives the same bytes, another seed others, a larger scale the same first examples`, () => {
    const a = sets.get(name)!;
    const b = generate(name, { seed: 7, scale: SCALE });
    const c = generate(name, { seed: 8, scale: SCALE });
    const big = generate(name, { seed: 7, scale: 2 * SCALE });
    for (const split of SPLITS) {
      assert.ok(sameBits(a[split].X.data, b[split].X.data), split);
      assert.equal(a[split].y, b[split].y);
      assert.not.ok(sameBits(a[split].X.data, c[split].X.data), split);
      assert.ok(sameBits(a[split].X.data, big[split].X.data.subarray(0, a[split].X.data.length)), `${split} at 2x scale`);
    }
    assert.equal(JSON.stringify(a.recipe), JSON.stringify(b.recipe));
  });
}

test("digits: disjoint splits, train and valid from the MNIST training file, labels as in MNIST", () => {
  const s = sets.get("mnist-basic")!;
  const src = sources(s);
  const all = [...src.train.digit, ...src.valid.digit, ...src.test.digit];
  assert.is(new Set(all).size, all.length);
  for (const i of [...src.train.digit, ...src.valid.digit]) assert.ok(i < 60000);
  const labels = loadMnist("train").labels;
  src.train.digit.forEach((d, i) => {
    assert.is(s.train.y[i], labels[d]);
    assert.ok(sameBits(row(s.train.X.data, i), row(mnistTrain, d)));
  });
  // Every MNIST variant uses the same digits.
  for (const name of ["mnist-rot", "mnist-back-rand", "mnist-back-image", "mnist-rot-back-image"]) {
    assert.equal(sources(sets.get(name)!).test.digit, src.test.digit, name);
  }
});

test("rotation: by 0 the identity, mass kept at any angle, a quarter turn moves pixels exactly", () => {
  const d = row(mnistTrain, 0);
  assert.ok(sameBits(rotate(d, 0), d));
  const mass = (x: ArrayLike<number>): number => Array.from(x).reduce((a, b) => a + b, 0);
  for (const angle of [0.3, 1, 2.5, 4, 6]) {
    const m = mass(rotate(d, angle));
    assert.ok(Math.abs(m - mass(d)) < 0.1 * mass(d), `angle ${angle}: mass ${m} vs ${mass(d)}`);
  }
  const q = rotate(d, Math.PI / 2);
  // Output (x, y) samples the input at column y, row 27 - x, up to cos(pi/2) ~ 6e-17.
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) assert.ok(Math.abs(q[y * 28 + x] - d[(27 - x) * 28 + y]) < 1e-6);
  const s = sets.get("mnist-rot")!;
  const a = sources(s).train.angle24[0];
  assert.ok(sameBits(row(s.train.X.data, 0), rotate(trainDigit(s, 0), (2 * Math.PI * a) / 2 ** 24)));
});

test("mnist-back-rand: every digit pixel is kept (max rule) and the background is noisy", () => {
  const s = sets.get("mnist-back-rand")!;
  for (let i = 0; i < s.train.y.length; i++) {
    const x = row(s.train.X.data, i);
    const d = trainDigit(s, i);
    let noisy = 0;
    for (let k = 0; k < P; k++) {
      assert.ok(x[k] >= d[k]);
      if (d[k] === 0 && x[k] > 0) noisy++;
    }
    assert.ok(noisy > 500);
  }
});

const backgrounds: GreyImage[] = BACKGROUNDS.map((b) =>
  decodePgm(readFileSync(fileURLToPath(new URL(`../../src/datasets/backgrounds/${b}.pgm`, import.meta.url))), b),
);
function patch(image: number, x0: number, y0: number): Float32Array {
  const { width, data } = backgrounds[image];
  return Float32Array.from({ length: P }, (_, k) => data[(y0 + Math.floor(k / 28)) * width + x0 + (k % 28)]);
}
function std(x: Float32Array): number {
  const m = x.reduce((a, b) => a + b, 0) / P;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / P);
}

test("mnist-back-image and mnist-rot-back-image: max(digit, recorded patch), patches with contrast", () => {
  for (const name of ["mnist-back-image", "mnist-rot-back-image"]) {
    const s = sets.get(name)!;
    const src = sources(s).train;
    for (let i = 0; i < s.train.y.length; i++) {
      const p = patch(src.backgroundimage[i], src.backgroundx[i], src.backgroundy[i]);
      assert.ok(std(p) >= 0.15);
      const d = name === "mnist-back-image" ? trainDigit(s, i) : rotate(trainDigit(s, i), (2 * Math.PI * src.angle24[i]) / 2 ** 24);
      const want = Float32Array.from(d, (v, k) => Math.max(v, p[k]));
      assert.ok(sameBits(row(s.train.X.data, i), want), `${name} ${i}`);
    }
  }
});

test("rectangles: a 1-pixel white outline, label = wider than tall, |w - h| >= 3", () => {
  const s = generate("rectangles", { seed: 3, scale: 0.1 });
  for (let i = 0; i < s.train.y.length; i++) {
    const x = row(s.train.X.data, i);
    let [c0, c1, r0, r1] = [28, -1, 28, -1];
    for (let k = 0; k < P; k++) {
      assert.ok(x[k] === 0 || x[k] === 1);
      if (x[k]) [c0, c1, r0, r1] = [Math.min(c0, k % 28), Math.max(c1, k % 28), Math.min(r0, Math.floor(k / 28)), Math.max(r1, Math.floor(k / 28))];
    }
    const [w, h] = [c1 - c0 + 1, r1 - r0 + 1];
    for (let k = 0; k < P; k++) {
      const [c, r] = [k % 28, Math.floor(k / 28)];
      const inBox = c >= c0 && c <= c1 && r >= r0 && r <= r1;
      const outline = inBox && (c === c0 || c === c1 || r === r0 || r === r1);
      assert.is(x[k], outline ? 1 : 0, `example ${i} pixel ${k}`);
    }
    assert.ok(Math.abs(w - h) >= 3);
    assert.is(s.train.y[i], w > h ? 1 : 0);
  }
});

test("rectangles-image: inside and outside are two recorded patches of different images, no outline, the published sizes", () => {
  const s = sets.get("rectangles-image")!;
  const src = sources(s).train;
  for (let i = 0; i < s.train.y.length; i++) {
    const inside = patch(src.insideimage[i], src.insidex[i], src.insidey[i]);
    const outside = patch(src.outsideimage[i], src.outsidex[i], src.outsidey[i]);
    assert.is.not(src.insideimage[i], src.outsideimage[i]);
    const [rx, ry, rw, rh] = [src.rectx[i], src.recty[i], src.rectw[i], src.recth[i]];
    const want = Float32Array.from({ length: P }, (_, k) => {
      const [c, r] = [k % 28, Math.floor(k / 28)];
      return c >= rx && c < rx + rw && r >= ry && r < ry + rh ? inside[k] : outside[k];
    });
    assert.ok(sameBits(row(s.train.X.data, i), want), `example ${i}`);
    assert.is(s.train.y[i], rw > rh ? 1 : 0);
    // Larochelle et al. (2007): sides at least 10, differing by at least 5, area 25% to 75% of the image.
    assert.ok(Math.abs(rw - rh) >= 5 && Math.min(rw, rh) >= 10, `${rw} x ${rh}`);
    assert.ok(rw * rh >= 196 && rw * rh <= 588, `${rw} x ${rh}`);
  }
});

function mask(points: Array<[number, number]>): Uint8Array {
  const m = new Uint8Array(P);
  for (const [x, y] of points) m[y * 28 + x] = 1;
  return m;
}

test("isConvex: hand-made pixel sets", () => {
  const square: Array<[number, number]> = [];
  for (let y = 5; y < 12; y++) for (let x = 3; x < 9; x++) square.push([x, y]);
  assert.ok(isConvex(mask(square)));
  assert.ok(isConvex(new Uint8Array(P)));
  assert.ok(isConvex(new Uint8Array(P).fill(1)));
  assert.ok(isConvex(mask([[4, 4]])));
  assert.ok(isConvex(mask([[0, 0], [2, 1]])), "no pixel centre between");
  assert.ok(isConvex(mask([[0, 0], [1, 1], [2, 2]])), "a diagonal line");
  assert.not.ok(isConvex(mask([[0, 0], [2, 0]])), "a gap");
  assert.not.ok(isConvex(mask([[0, 0], [2, 2]])), "a gap on a diagonal");
  assert.not.ok(isConvex(mask(square.filter(([x, y]) => !(x === 5 && y === 8)))), "a hole");
  assert.not.ok(isConvex(mask(square.filter(([x, y]) => !(x > 6 && y > 8)))), "an L");
  const triangle: Array<[number, number]> = [];
  for (let y = 0; y < 10; y++) for (let x = 0; x <= y; x++) triangle.push([x + 10, y + 10]);
  assert.ok(isConvex(mask(triangle)));
  assert.not.ok(isConvex(mask(triangle.filter(([x, y]) => !(x === 10 && y === 15)))), "a notch in an edge");
});

test("segmentsStayIn: the pairwise test on hand-made pixel sets, and where it is stricter than isConvex", () => {
  const square: Array<[number, number]> = [];
  for (let y = 5; y < 12; y++) for (let x = 3; x < 9; x++) square.push([x, y]);
  assert.ok(segmentsStayIn(mask(square)));
  assert.ok(segmentsStayIn(new Uint8Array(P)));
  assert.ok(segmentsStayIn(new Uint8Array(P).fill(1)));
  assert.ok(segmentsStayIn(mask([[4, 4]])));
  assert.ok(segmentsStayIn(mask([[0, 0], [1, 1], [2, 2]])), "a diagonal line");
  assert.not.ok(segmentsStayIn(mask([[0, 0], [2, 0]])), "a gap");
  assert.not.ok(segmentsStayIn(mask(square.filter(([x, y]) => !(x === 5 && y === 8)))), "a hole");
  // (0, 0) to (2, 1): the middle step rounds (1, 0.5) up to (1, 1), which is not in the set, though
  // no pixel centre lies between the two, so the hull test passes the pair.
  assert.ok(isConvex(mask([[0, 0], [2, 1]])));
  assert.not.ok(segmentsStayIn(mask([[0, 0], [2, 1]])));
  assert.ok(segmentsStayIn(mask([[0, 0], [1, 1], [2, 1]])));
});

test("convex: label 1 sets pass the hull test, label 0 fail the hull or the pairwise test; the classes' mean sizes agree", () => {
  const s = sets.get("convex")!;
  for (const split of SPLITS) {
    const { X, y } = s[split];
    for (let i = 0; i < y.length; i++) {
      const x = row(X.data, i);
      assert.ok(x.every((v) => v === 0 || v === 1));
      if (y[i] === 1) assert.ok(isConvex(x), `${split} ${i}`);
      else assert.not.ok(isConvex(x) && segmentsStayIn(x), `${split} ${i}`);
    }
  }
  const { convex, nonConvex } = s.recipe.meanLitPixels as { convex: number; nonConvex: number };
  assert.ok(Math.abs(convex - nonConvex) < 0.15 * nonConvex, `${convex} vs ${nonConvex}`);
});

test("decodePgm: reads P5 with comments; rejects corrupt headers and rasters with FormatError", () => {
  const pgm = (header: string, raster: number[]): Uint8Array => new Uint8Array([...new TextEncoder().encode(header), ...raster]);
  const img = decodePgm(pgm("P5\n# a comment\n3 2\n255\n", [0, 51, 255, 1, 2, 3]));
  assert.is(img.width, 3);
  assert.is(img.height, 2);
  assert.equal(Array.from(img.data.subarray(0, 3)), [0, Math.fround(0.2), 1]);
  const bad: Array<[string, Uint8Array, RegExp]> = [
    ["P2 (ASCII)", pgm("P2\n3 2\n255\n", [0, 0, 0, 0, 0, 0]), /not a binary PGM/],
    ["a letter in the width", pgm("P5\n3x 2\n255\n", [0, 0, 0, 0, 0, 0]), /width is not followed by whitespace/],
    ["no height", pgm("P5\n3 \n", []), /height is not a decimal number/],
    ["16-bit", pgm("P5\n1 1\n65535\n", [0, 0]), /maxval 65535/],
    ["truncated", pgm("P5\n3 2\n255\n", [0, 0, 0]), /raster holds 3 of 6 bytes/],
    ["trailing", pgm("P5\n1 1\n255\n", [0, 0]), /1 trailing bytes/],
    ["above maxval", pgm("P5\n1 1\n15\n", [16]), /above maxval 15/],
  ];
  for (const [what, bytes, message] of bad) {
    try {
      decodePgm(bytes, "x.pgm");
      assert.unreachable(what);
    } catch (err) {
      assert.instance(err, FormatError, what);
      assert.match((err as Error).message, /^x\.pgm: /, what);
      assert.match((err as Error).message, message, what);
    }
  }
});

test("generate rejects unknown names, bad seeds and scales", () => {
  assert.throws(() => generate("mnist-fancy"), (e: Error) => e instanceof InputError && /one of: mnist-basic/.test(e.message));
  const bad = (e: Error): boolean => e instanceof InputError;
  assert.throws(() => generate("convex", { scale: 0 }), bad);
  assert.throws(() => generate("convex", { scale: 2 }), bad);
  assert.throws(() => generate("convex", { seed: -1 }), bad);
  assert.throws(() => generate("convex", { seed: 1.5 }), bad);
});

test("writeDataset: IDX files give back the arrays, the recipe reads back, the mosaic is a PNG", () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-datasets-"));
  const s = sets.get("rectangles-image")!;
  let progress = 0;
  generate("rectangles", { scale: SCALE, onProgress: (done, total) => (progress = done / total) });
  assert.is(progress, 1);
  const paths = writeDataset(s, dir);
  assert.is(paths.length, 8);
  for (const split of SPLITS) {
    const X = decodeIdx(readFileSync(join(dir, `rectangles-image-${split}-images.idx`)));
    assert.is(X.dtype, "f32");
    assert.equal(X.shape, s[split].X.shape);
    assert.ok(sameBits(X.data, s[split].X.data));
    const y = decodeIdx(readFileSync(join(dir, `rectangles-image-${split}-labels.idx`)));
    assert.is(y.dtype, "u8");
    assert.equal(Array.from(y.data), Array.from(s[split].y));
  }
  const recipe = JSON.parse(readFileSync(join(dir, "rectangles-image.json"), "utf8"));
  assert.equal(recipe, JSON.parse(JSON.stringify(s.recipe)));
  const png = readFileSync(join(dir, "rectangles-image-samples.png"));
  assert.equal(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test.run();
