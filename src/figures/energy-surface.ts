// The paper's figures that need no data set (Node: they write PNG files).
//
// Fig. 2, the energy surface: a contractive autoencoder (100 sigmoid hiddens, real output) trained on
// 2-D points around a circle. Its field points to the circle from inside and outside, its energy has
// a ridge along the circle and a minimum near the centre, and its squared reconstruction error
// vanishes on the ridge and at the centre alike: the error cannot tell good stationary points from
// bad ones (docs/math.md §4.4).

import { join } from "node:path";
import { createEngineSync } from "../engine/engine.js";
import { createAutoencoder, type Autoencoder } from "../model/autoencoder.js";
import { energy, field, reconstruct } from "../model/energy.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS, type TrainOptions } from "../train/autoencoder.js";
import type { EpochReport } from "../train/driver.js";
import { rng, type Rng } from "../random.js";
import { cos, log, sin } from "../math.js";
import { checkWritable, makeDir, writeAllAtomic } from "../node.js";
import { arrow, dot, encodePng, heatmap, image, line, type Image } from "./plot.js";
import type { Tensor } from "../tensor.js";

// The data and the pictures use src/math.ts's log, sin and cos and Math.sqrt instead of the host's
// Math.log, Math.sin, Math.cos and Math.hypot (not specified to the bit), so the same seed trains the
// same model, and draws the same pixels, in every runtime.

/** A standard normal deviate (Box–Muller) from the generator. */
function normal(r: Rng): number {
  const u = 1 - r.uniform(); // (0, 1]
  return Math.sqrt(-2 * log(u)) * cos(2 * Math.PI * r.uniform());
}

/** n points at angle uniform, radius 1 + noise·N(0, 1). */
export function circleData(n: number, noise: number, r: Rng): Tensor {
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = 2 * Math.PI * r.uniform();
    const rad = 1 + noise * normal(r);
    data[2 * i] = rad * cos(a);
    data[2 * i + 1] = rad * sin(a);
  }
  return { shape: [n, 2], data };
}

export interface SurfaceOptions {
  seed: number;
  hidden: number;
  contractive: number;
  epochs: number;
  lr: number;
  onEpoch?: (r: EpochReport) => void;
}

export const SURFACE_DEFAULTS: SurfaceOptions = { seed: 1, hidden: 100, contractive: 0.03, epochs: 3000, lr: 0.1 };

const EXTENT = 1.8; // the plots show [−1.8, 1.8]²
const FOCUS = 1.3; // colour scales are set by the values within this radius (the circle and around)
const GRID = 200; // energy and error resolution
const SIZE = 400; // pixels a side

/** The grid points (row 0 = top = y = +EXTENT) as rows of an (n·n, 2) array. */
function grid(n: number): Tensor {
  const data = new Float32Array(2 * n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      data[2 * (r * n + c)] = -EXTENT + (2 * EXTENT * (c + 0.5)) / n;
      data[2 * (r * n + c) + 1] = EXTENT - (2 * EXTENT * (r + 0.5)) / n;
    }
  }
  return { shape: [n * n, 2], data };
}

const toPixel = (x: number, y: number): [number, number] => [((x + EXTENT) / (2 * EXTENT)) * SIZE, ((EXTENT - y) / (2 * EXTENT)) * SIZE];

function circleOutline(img: Image): void {
  for (let i = 0; i < 720; i++) {
    const [x, y] = toPixel(cos((i * Math.PI) / 360), sin((i * Math.PI) / 360));
    dot(img, x, y, 0, [255, 255, 255]);
  }
}

/** The four pictures of Fig. 2, as energySurface names them in its directory. */
export const SURFACE_FILES = ["data.png", "energy.png", "reconstruction-error.png", "vector-field.png"] as const;

/** Trains the model of Fig. 2 and writes its four pictures into dir (all or none); returns the model and data. */
export async function energySurface(dir: string, options: Partial<SurfaceOptions> = {}): Promise<{ ae: Autoencoder; data: Tensor; files: string[] }> {
  const o = { ...SURFACE_DEFAULTS, ...options };
  // Where the pictures go is checked before the training, not found out after it.
  makeDir(dir, "output directory");
  for (const name of SURFACE_FILES) checkWritable(join(dir, name), "figure");
  const r = rng(o.seed);
  const data = circleData(1000, 0.05, r);
  const e = createEngineSync();
  const ae = createAutoencoder(e, { D: 2, H: o.hidden, activation: "sigmoid", output: "real" }, r);
  const t: TrainOptions = { ...TRAIN_DEFAULTS, epochs: o.epochs, lr: o.lr, contractive: o.contractive, batch: 20 };
  await trainAutoencoder(ae, data, t, startState(ae, t, r), { onEpoch: o.onEpoch });

  const pictures: [string, Uint8Array][] = [];
  const save = (name: (typeof SURFACE_FILES)[number], img: Image) => pictures.push([join(dir, name), encodePng(img)]);

  const pts = image(SIZE, SIZE);
  line(pts, 0, SIZE / 2, SIZE, SIZE / 2, [220, 220, 220]);
  line(pts, SIZE / 2, 0, SIZE / 2, SIZE, [220, 220, 220]);
  for (let i = 0; i < data.shape[0]; i++) dot(pts, ...toPixel(data.data[2 * i], data.data[2 * i + 1]), 1, [30, 60, 160]);
  save("data.png", pts);

  // Colour scales from the values near the circle, so the ridge and the centre are not washed out by
  // the far corners, where the energy keeps falling and the error keeps growing.
  const g = grid(GRID);
  const near: number[] = [];
  for (let i = 0; i < GRID * GRID; i++) if (Math.sqrt(g.data[2 * i] * g.data[2 * i] + g.data[2 * i + 1] * g.data[2 * i + 1]) <= FOCUS) near.push(i);
  const range = (v: Float32Array): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of near) {
      lo = Math.min(lo, v[i]);
      hi = Math.max(hi, v[i]);
    }
    return [lo, hi];
  };
  const E = energy(ae, g);
  save("energy.png", withCircle(heatmap(E, GRID, GRID, SIZE / GRID, range(E))));
  const rec = reconstruct(ae, g).data;
  const err = new Float32Array(GRID * GRID);
  for (let i = 0; i < err.length; i++) {
    const dx = rec[2 * i] - g.data[2 * i];
    const dy = rec[2 * i + 1] - g.data[2 * i + 1];
    err[i] = dx * dx + dy * dy;
  }
  save("reconstruction-error.png", withCircle(heatmap(err, GRID, GRID, SIZE / GRID, range(err))));

  const n = 25;
  const coarse = grid(n);
  const F = field(ae, coarse).data;
  let longest = 0;
  for (let i = 0; i < n * n; i++) longest = Math.max(longest, Math.sqrt(F[2 * i] * F[2 * i] + F[2 * i + 1] * F[2 * i + 1]));
  const vf = image(SIZE, SIZE);
  for (let i = 0; i < data.shape[0]; i++) dot(vf, ...toPixel(data.data[2 * i], data.data[2 * i + 1]), 0, [170, 190, 230]);
  const cellPx = SIZE / n;
  for (let i = 0; i < n * n; i++) {
    // Length ∝ sqrt(|F|), so the weak field inside the circle stays visible next to the strong one outside.
    const [x, y] = toPixel(coarse.data[2 * i], coarse.data[2 * i + 1]);
    const m = Math.sqrt(F[2 * i] * F[2 * i] + F[2 * i + 1] * F[2 * i + 1]);
    const s = m > 0 ? (0.9 * cellPx * Math.sqrt(m / (longest || 1))) / m : 0;
    arrow(vf, x, y, x + s * F[2 * i], y - s * F[2 * i + 1], [20, 20, 20]);
  }
  save("vector-field.png", vf);
  writeAllAtomic(pictures);
  return { ae, data, files: pictures.map(([path]) => path) };
}

function withCircle(img: Image): Image {
  circleOutline(img);
  return img;
}
