// Fig. 2 as the paper describes it, checked on the model the figure command trains.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { energySurface } from "../src/figures/energy-surface.js";
import { energy, field, reconstruct } from "../src/model/energy.js";
import { rocPlot, ROC_COLORS } from "../src/figures/roc.js";
import { image, text, textWidth, type Image, type RGB } from "../src/figures/plot.js";

const dir = mkdtempSync(join(tmpdir(), "aescore-fig-"));
const { ae, files } = await energySurface(dir);

// 36 points on the circle of radius rad.
function ring(rad: number) {
  const data = new Float32Array(72);
  for (let i = 0; i < 36; i++) {
    data[2 * i] = rad * Math.cos((i * Math.PI) / 18);
    data[2 * i + 1] = rad * Math.sin((i * Math.PI) / 18);
  }
  return { shape: [36, 2], data };
}

const meanOf = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

test("the field points to the circle from inside and from outside", () => {
  for (const rad of [0.3, 0.6, 1.4, 1.8]) {
    const X = ring(rad);
    const F = field(ae, X).data;
    for (let i = 0; i < 36; i++) {
      const radial = (F[2 * i] * X.data[2 * i] + F[2 * i + 1] * X.data[2 * i + 1]) / rad;
      assert.ok(rad < 1 ? radial > 0 : radial < 0, `radius ${rad}, angle ${i * 10}°: radial field ${radial}`);
    }
  }
});

test("the energy has a ridge along the circle and its minimum inside near the centre", () => {
  const E = (rad: number) => meanOf(energy(ae, ring(rad)));
  const centre = energy(ae, { shape: [1, 2], data: Float32Array.of(0, 0) })[0];
  assert.ok(centre < E(0.3) && E(0.3) < E(0.6) && E(0.6) < E(1), "rising from the centre to the circle");
  assert.ok(E(1) > E(1.4) && E(1.4) > E(1.8), "falling outside the circle");
});

test("the squared reconstruction error vanishes on the ridge and at the centre alike", () => {
  const err = (X: { shape: number[]; data: Float32Array }) => {
    const R = reconstruct(ae, X).data;
    return meanOf(R.map((r, i) => (r - X.data[i]) ** 2)) * 2;
  };
  const centre = err({ shape: [1, 2], data: Float32Array.of(0, 0) });
  const between = err(ring(0.55));
  const onRidge = err(ring(1));
  assert.ok(centre < between / 4, `centre ${centre} vs between ${between}`);
  assert.ok(onRidge < between, `ridge ${onRidge} vs between ${between}`);
});

test("four PNG files with the right signature and size", () => {
  assert.equal(files.map((f) => f.slice(dir.length + 1)), ["data.png", "energy.png", "reconstruction-error.png", "vector-field.png"]);
  for (const f of files) {
    const b = readFileSync(f);
    assert.equal(Array.from(b.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.is(b.readUInt32BE(16), 400);
    assert.is(b.readUInt32BE(20), 400);
  }
});

const pixel = (img: Image, x: number, y: number): RGB => Array.from(img.rgb.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3)) as RGB;
const inked = (img: Image, x0: number, y0: number, w: number, h: number, c: RGB) => {
  let n = 0;
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (pixel(img, x, y).join() === c.join()) n++;
  return n;
};

test("text draws the 3 x 5 glyphs at their zoom, lower case as capitals", () => {
  const a = image(40, 12);
  text(a, 1, 1, "T1", [0, 0, 0]);
  assert.is(inked(a, 0, 0, 40, 12, [0, 0, 0]), 4 * (7 + 8)); // T: 7 font pixels, 1: 8, each 2 x 2
  const b = image(40, 12);
  text(b, 1, 1, "t1", [0, 0, 0]);
  assert.equal(a.rgb, b.rgb);
  assert.is(textWidth("T1"), 14);
});

test("the ROC plot has axes, ticks, the chance line, the curves in their colours and a legend", () => {
  const img = rocPlot([[[0, 0], [0.1, 0.9], [1, 1]], [], [[0, 0], [1, 1]]], ["energy", "max-prob", "reconstruction"]);
  assert.equal([img.width, img.height], [456, 466]);
  const [left, top, size] = [44, 26, 400];
  const black: RGB = [0, 0, 0];
  assert.is(inked(img, left, top + size - 1, size, 1, black), size); // the x axis
  assert.is(inked(img, left, top, 1, size, black), size); // the y axis
  assert.ok(inked(img, 0, top + size + 4, img.width, 40, black) > 200, "tick labels and the axis title");
  assert.ok(inked(img, 0, top, left - 2, size, black) > 40, "y tick labels");
  assert.ok(inked(img, 0, 0, img.width, top - 6, black) > 100, "the y axis title, above the plot");
  assert.ok(inked(img, left + 1, top, size - 1, size - 1, ROC_COLORS[0].rgb) > size / 2, "the first curve");
  assert.ok(inked(img, left + 1, top, size - 1, size - 1, ROC_COLORS[1].rgb) >= 16, "the second method's legend, though its curve is empty");
});

test.run();
