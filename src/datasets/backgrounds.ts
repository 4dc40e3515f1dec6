// The background images (PGM, shipped in backgrounds/) and the patches cut from them.

import { fileURLToPath } from "node:url";
import { FormatError, InputError } from "../errors.js";
import { readBytes } from "../node.js";
import { type Rng } from "../random.js";
import { MIN_PATCH_STD, PIXELS, SIDE } from "./sets.js";

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
export const BACKGROUND_DIR = new URL("../../../src/datasets/backgrounds/", import.meta.url);

let backgrounds: GreyImage[] | undefined;

export function loadBackgrounds(): GreyImage[] {
  backgrounds ??= BACKGROUNDS.map((b) => {
    const path = fileURLToPath(new URL(`${b}.pgm`, BACKGROUND_DIR));
    const img = decodePgm(readBytes(path), path);
    if (img.width < SIDE || img.height < SIDE) throw new FormatError(`${path}: ${img.width} x ${img.height} is smaller than a 28 x 28 patch`);
    return img;
  });
  return backgrounds;
}

export interface Patch {
  image: number;
  x: number;
  y: number;
}

// 10000 draws without a patch of enough contrast means the images are wrong, not bad luck.
export function drawPatch(r: Rng, bgs: GreyImage[], out: Float32Array, notImage = -1): Patch {
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
