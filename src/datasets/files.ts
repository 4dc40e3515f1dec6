// A generated set on disk: IDX files, the recipe JSON, the sample mosaic.

import { join } from "node:path";
import { encodeIdx } from "../formats/idx-csv.js";
import { checkWritable, makeDir, writeAllAtomic } from "../node.js";
import { encodePng, image, type Image } from "../figures/plot.js";
import { DATASET_SIZES, DATASET_SOURCES, DatasetName, GeneratedSet, PIXELS, SIDE, SPLITS } from "./sets.js";

export function sourcesFormat(name: DatasetName): string {
  const parts: string[] = [];
  if (DATASET_SOURCES[name].digits) parts.push("digit: MNIST source index per example (see digits)");
  if (name.includes("rot")) parts.push("angle24: the rotation angle is 2 pi * angle24 / 2^24");
  if (name.includes("back-image")) parts.push("backgroundimage / backgroundx / backgroundy: position in backgrounds and top-left corner of the patch");
  if (name.startsWith("rectangles")) parts.push("rectx, recty, rectw, recth: top-left corner, width and height of the rectangle");
  if (name === "rectangles-image") parts.push("outside* / inside*: image, x, y of the two patches");
  if (name === "convex") parts.push("none: the shapes depend on the seed only");
  return parts.join("; ");
}

// Up to 100 training examples, the first ones of each class in turn, so every class shows.
export function samples(set: GeneratedSet): ArrayLike<number>[] {
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
export function greyMosaic(tiles: ArrayLike<number>[], columns: number, zoom: number): Image {
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

/** The files of set `name` in a directory, in the order writeDataset writes them. */
export function datasetFiles(name: DatasetName): string[] {
  return [...SPLITS.flatMap((split) => [`${name}-${split}-images.idx`, `${name}-${split}-labels.idx`]), `${name}.json`, `${name}-samples.png`];
}

/**
 * Checks, before any set is generated, that dir can take every file of these sets (a directory, a
 * read-only file or a pipe in the way is refused up front, not found after the work).
 */
export function checkDatasetTargets(names: DatasetName[], dir: string): void {
  makeDir(dir, "output directory");
  for (const name of names) for (const file of datasetFiles(name)) checkWritable(join(dir, file), `${name} file`);
}

/**
 * Writes <name>-{train,valid,test}-{images,labels}.idx (f32 images, u8 labels), <name>.json (the
 * recipe) and <name>-samples.png (training examples by class) into dir, all or none; returns the paths.
 */
export function writeDataset(set: GeneratedSet, dir: string): string[] {
  checkDatasetTargets([set.name], dir);
  const bytes: (Uint8Array | string)[] = [];
  for (const split of SPLITS) {
    const { X, y } = set[split];
    bytes.push(encodeIdx(X, "f32"), encodeIdx({ shape: [y.length], data: Float32Array.from(y) }, "u8"));
  }
  // Arrays of numbers on one line each: the recipe stays readable at 50000 examples a split. Only
  // an indented array opens with a raw newline (strings hold theirs escaped), so no string matches.
  const json = JSON.stringify(set.recipe, null, 2).replace(/\[\n\s*(-?[\d.e+-]+(?:,\n\s*-?[\d.e+-]+)*)\n\s*\]/g, (_m, inner: string) => `[${inner.replace(/\s+/g, "")}]`);
  bytes.push(json + "\n", encodePng(greyMosaic(samples(set), 10, 2)));
  const paths = datasetFiles(set.name).map((file) => join(dir, file));
  writeAllAtomic(paths.map((path, i) => [path, bytes[i]]));
  return paths;
}
