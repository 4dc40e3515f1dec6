// Raster plots written as PNG (Node: deflate from node:zlib): heat maps, scatter points, arrows and
// image mosaics, enough for the paper's figures without a plotting dependency.

import { deflateSync } from "node:zlib";

/** An RGB image, row-major, 3 bytes a pixel. */
export interface Image {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type RGB = [number, number, number];

export function image(width: number, height: number, background: RGB = [255, 255, 255]): Image {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(background, 3 * i);
  return { width, height, rgb };
}

export function setPixel(img: Image, x: number, y: number, c: RGB): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.rgb.set(c, 3 * (y * img.width + x));
}

// A perceptually ordered map from dark blue through green to yellow (anchors close to viridis).
const ANCHORS: RGB[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** Colour of t in [0, 1] on the map. */
export function colormap(t: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (ANCHORS.length - 1);
  const i = Math.min(ANCHORS.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(ANCHORS[i][c] + f * (ANCHORS[i + 1][c] - ANCHORS[i][c]))) as RGB;
}

/**
 * A heat map of values (rows x cols, row 0 at the top), coloured from lo to hi (default: their min
 * and max; values outside are clipped).
 */
export function heatmap(values: ArrayLike<number>, rows: number, cols: number, scale = 1, range?: [number, number]): Image {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      lo = Math.min(lo, values[i]);
      hi = Math.max(hi, values[i]);
    }
  }
  if (range) [lo, hi] = range;
  const img = image(cols * scale, rows * scale);
  for (let r = 0; r < rows * scale; r++) {
    for (let c = 0; c < cols * scale; c++) {
      const v = values[Math.floor(r / scale) * cols + Math.floor(c / scale)];
      setPixel(img, c, r, colormap(hi > lo ? (v - lo) / (hi - lo) : 0.5));
    }
  }
  return img;
}

/** A filled dot of radius r. */
export function dot(img: Image, x: number, y: number, r: number, c: RGB): void {
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) setPixel(img, x + dx, y + dy, c);
}

/** A straight line (one pixel wide, sampled densely enough to have no gaps). */
export function line(img: Image, x0: number, y0: number, x1: number, y1: number, c: RGB): void {
  const n = Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))) + 1;
  for (let i = 0; i <= n; i++) setPixel(img, x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
}

/** An arrow from (x0, y0) to (x1, y1) with a small head. */
export function arrow(img: Image, x0: number, y0: number, x1: number, y1: number, c: RGB): void {
  line(img, x0, y0, x1, y1, c);
  const len = Math.sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)); // not Math.hypot or **: not specified to the bit
  if (len < 1e-9) return;
  const [ux, uy] = [(x1 - x0) / len, (y1 - y0) / len];
  const h = Math.min(4, len / 2);
  line(img, x1, y1, x1 - h * (ux + 0.5 * uy), y1 - h * (uy - 0.5 * ux), c);
  line(img, x1, y1, x1 - h * (ux - 0.5 * uy), y1 - h * (uy + 0.5 * ux), c);
}

// A 3 x 5 pixel font (rows top to bottom, 1 = ink) for axis labels and legends: digits, capitals
// (lower case is drawn as capitals), and . - ( ) and space.
const GLYPHS: Record<string, string> = {
  "0": "111101101101111",
  "1": "010110010010111",
  "2": "111001111100111",
  "3": "111001111001111",
  "4": "101101111001001",
  "5": "111100111001111",
  "6": "111100111101111",
  "7": "111001001001001",
  "8": "111101111101111",
  "9": "111101111001111",
  ".": "000000000000010",
  "-": "000000111000000",
  "(": "010100100100010",
  ")": "010001001001010",
  " ": "000000000000000",
  "A": "010101111101101",
  "B": "110101110101110",
  "C": "011100100100011",
  "D": "110101101101110",
  "E": "111100110100111",
  "F": "111100110100100",
  "G": "011100101101011",
  "H": "101101111101101",
  "I": "111010010010111",
  "J": "001001001101010",
  "K": "101101110101101",
  "L": "100100100100111",
  "M": "101111111101101",
  "N": "110101101101101",
  "O": "010101101101010",
  "P": "110101110100100",
  "Q": "010101101110011",
  "R": "110101110101101",
  "S": "011100010001110",
  "T": "111010010010010",
  "U": "101101101101111",
  "V": "101101101101010",
  "W": "101101111111101",
  "X": "101101010101101",
  "Y": "101101010010010",
  "Z": "111001010100111",
};

/** Text from (x, y), its top-left corner, each font pixel `zoom` pixels; a character without a glyph leaves a gap. */
export function text(img: Image, x: number, y: number, s: string, c: RGB, zoom = 2): void {
  let at = x;
  for (const ch of s.toUpperCase()) {
    const g = GLYPHS[ch];
    if (g) for (let i = 0; i < 15; i++) if (g[i] === "1") for (let dy = 0; dy < zoom; dy++) for (let dx = 0; dx < zoom; dx++) setPixel(img, at + (i % 3) * zoom + dx, y + Math.floor(i / 3) * zoom + dy, c);
    at += 4 * zoom;
  }
}

/** The width in pixels of `s` drawn by text() at `zoom`. */
export const textWidth = (s: string, zoom = 2): number => Math.max(0, 4 * zoom * [...s].length - zoom);

/** Grey-level tiles (each size x size values in [lo, hi]) in a grid of `columns`, 1-pixel gaps. */
export function mosaic(tiles: ArrayLike<number>[], size: number, columns: number, zoom = 2): Image {
  const rows = Math.ceil(tiles.length / columns);
  const cell = size * zoom + 1;
  const img = image(columns * cell + 1, rows * cell + 1, [40, 40, 40]);
  tiles.forEach((t, n) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < size * size; i++) {
      lo = Math.min(lo, t[i]);
      hi = Math.max(hi, t[i]);
    }
    const [ox, oy] = [(n % columns) * cell + 1, Math.floor(n / columns) * cell + 1];
    for (let y = 0; y < size * zoom; y++) {
      for (let x = 0; x < size * zoom; x++) {
        const v = t[Math.floor(y / zoom) * size + Math.floor(x / zoom)];
        const g = Math.round(255 * (hi > lo ? (v - lo) / (hi - lo) : 0.5));
        setPixel(img, ox + x, oy + y, [g, g, g]);
      }
    }
  });
  return img;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of an RGB image (8-bit, filter 0 on every row, zlib-deflated). */
export function encodePng(img: Image): Uint8Array {
  const { width, height, rgb } = img;
  const raw = new Uint8Array(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(3 * y * width, 3 * (y + 1) * width), y * (1 + 3 * width) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
