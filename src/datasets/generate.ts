// The eight data sets of the "deep learning benchmark" (Larochelle et al., ICML 2007) that the paper
// evaluates on, regenerated from their published recipes: the original .amat files cannot be
// obtained here, so each set is generated, seeded and bit-reproducible (every choice
// the recipes leave open is written down in these modules and in each set's recipe JSON).
//
// Reproducibility: every example draws from its own generator, seeded by (seed, set, split, index),
// and the MNIST digits are prefixes of seeded permutations, so an example is the same bytes at every
// `scale` that contains it. Only IEEE-754 basic arithmetic (and Math.sqrt, Math.floor, Math.round,
// which are exact) is used: the sines and cosines of the rotations and half-planes come from
// src/math.ts, not from the host's Math.sin / Math.cos, which the language leaves approximate (they
// may differ between engines, or between versions of one), so every runtime writes the same bytes.

import { InputError, quote } from "../errors.js";
import { checkSeed, type Rng } from "../random.js";
import { CHOICES, DATASETS, RECTANGLES, RECTANGLES_IMAGE, DATASET_SIZES, DATASET_SOURCES, DatasetName, GenerateOptions, GeneratedSet, PIXELS, SET_TAG, SPLITS, SplitName, stream } from "./sets.js";
import { BACKGROUNDS, drawPatch, loadBackgrounds } from "./backgrounds.js";
import { BYTE, digitSources, mnist, rotate } from "./digits.js";
import { convexShape, drawRect, inRect, onOutline } from "./shapes.js";
import { sourcesFormat } from "./files.js";

/** Bumped whenever a generator's bytes change (2: calibrated against the RBF-SVM baseline, results/calibration): cached results of other versions are not read back. */
export const GENERATOR_VERSION = 2;

export type Maker = (r: Rng, source: number, out: Float32Array, rec: Record<string, number[]>) => number;

export function record(rec: Record<string, number[]>, prefix: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) (rec[prefix + k] ??= []).push(v);
}

export function maker(name: DatasetName): Maker {
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
        const rect = drawRect(r, RECTANGLES);
        record(rec, "rect", { ...rect });
        for (let k = 0; k < PIXELS; k++) out[k] = onOutline(rect, k) ? 1 : 0;
        return rect.w > rect.h ? 1 : 0;
      };
    case "rectangles-image":
      return (r, _source, out, rec) => {
        const rect = drawRect(r, RECTANGLES_IMAGE);
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

export function isDataset(name: string): name is DatasetName {
  return (DATASETS as readonly string[]).includes(name);
}

/** Generates one of the eight sets (see DATASETS), seeded; the same (seed, scale) gives the same bytes. */
export function generate(name: string, options: GenerateOptions = {}): GeneratedSet {
  if (!isDataset(name)) throw new InputError(`unknown data set "${name}" (one of: ${DATASETS.join(", ")})`);
  const { seed = 0, scale = 1, onProgress } = options;
  checkSeed(seed, "generate");
  if (!(scale > 0 && scale <= 1)) throw new InputError(`generate: scale must be in (0, 1], not ${quote(scale)}`);
  const full = DATASET_SIZES[name];
  const n = Object.fromEntries(SPLITS.map((s) => [s, Math.max(1, Math.round(full[s] * scale))])) as Record<SplitName, number>;
  const isMnist = DATASET_SOURCES[name].digits;
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
    generatorVersion: GENERATOR_VERSION,
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
  if (DATASET_SOURCES[name].images) recipe.backgrounds = BACKGROUNDS.map((b) => `${b}.pgm`);
  recipe.sources = sources;
  return { name, train: splits[0], valid: splits[1], test: splits[2], recipe };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function choicesFor(name: DatasetName): Record<string, unknown> {
  const c: Record<string, unknown> = { pixels: CHOICES.pixels, seeding: CHOICES.seeding };
  if (DATASET_SOURCES[name].digits) c.digits = CHOICES.digits;
  if (name.includes("rot")) c.rotation = CHOICES.rotation;
  if (name === "mnist-back-rand") c.background = CHOICES.backgroundRandom;
  if (name === "mnist-back-image" || name === "mnist-rot-back-image") c.background = CHOICES.backgroundImage;
  if (name === "mnist-rot-back-image") c.order = CHOICES.rotatedBackgroundImage;
  if (name === "rectangles") c.rectangles = CHOICES.rectangles;
  if (name === "rectangles-image") c.rectangles = CHOICES.rectanglesImage;
  if (name === "convex") {
    c.shapes = CHOICES.convex;
    c.convexityTest = CHOICES.convexityTest;
  }
  c.sourcesFormat = sourcesFormat(name);
  return c;
}

// The public face of the generators (the package's "aescore/datasets").
export * from "./sets.js";
export * from "./backgrounds.js";
export * from "./digits.js";
export * from "./shapes.js";
export * from "./files.js";
