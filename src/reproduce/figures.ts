// Fig. 2 (the energy surface on a circle) and Fig. 3 (energy histograms of 6s and 9s).

import { join } from "node:path";
import { createEngineSync } from "../engine/engine.js";
import { loadMnist } from "../node.js";
import { energySurface, SURFACE_DEFAULTS } from "../figures/energy-surface.js";
import { energy, reconstruct } from "../model/energy.js";
import { createAutoencoder, type AeActivation, type Autoencoder } from "../model/autoencoder.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS } from "../train/autoencoder.js";
import { rng } from "../random.js";
import { image, line, type Image, type RGB } from "../figures/plot.js";
import type { Tensor } from "../tensor.js";
import { Context, savePng, writeReport } from "./common.js";

// ---- Fig. 2 and Fig. 3 ----------------------------------------------------------------------------

export async function fig2(ctx: Context): Promise<void> {
  const t0 = performance.now();
  // --quick: a tenth of the epochs (the picture is rough, the shapes are there).
  const { files } = await energySurface(join(ctx.dir, "fig2"), { seed: ctx.seed || 1, ...(ctx.quick ? { epochs: SURFACE_DEFAULTS.epochs / 10 } : {}) });
  writeReport(ctx, "fig2", "Fig. 2: the energy surface of a contractive autoencoder on a circle", [
    "A contractive autoencoder (100 sigmoid hiddens, real output, λ = 0.03) trained on 1000 points around the unit circle.",
    "",
    ...files.map((f) => `![${f}](fig2/${f.split("/").pop()})`),
    "",
    "The field points to the circle from inside and outside; the energy has a ridge along the circle and its minimum near the centre; the squared reconstruction error is small both on the ridge and at the centre (test/figures.test.ts checks all three).",
  ].join("\n"), (performance.now() - t0) / 1000);
}

/** Histogram panel: two distributions (class 6 in blue, class 9 in red) over shared bins. */
export function histogramPanel(a: number[], b: number[], width: number, height: number): Image {
  const img = image(width, height);
  const lo = Math.min(...a, ...b);
  const hi = Math.max(...a, ...b);
  const bins = 40;
  const count = (v: number[]) => {
    const c = new Array(bins).fill(0);
    for (const x of v) c[Math.min(bins - 1, Math.floor(((x - lo) / (hi - lo || 1)) * bins))]++;
    return c;
  };
  const [ca, cb] = [count(a), count(b)];
  const top = Math.max(...ca, ...cb) || 1;
  const draw = (c: number[], color: RGB, dx: number) => {
    c.forEach((n, i) => {
      const x = Math.round(((i + 0.5) / bins) * (width - 4)) + 2 + dx;
      line(img, x, height - 1, x, height - 1 - ((height - 4) * n) / top, color);
    });
  };
  draw(ca, [40, 90, 200], -1);
  draw(cb, [210, 50, 40], 1);
  return img;
}

export function stack(panels: Image[], columns: number): Image {
  const [w, h] = [panels[0].width, panels[0].height];
  const rows = Math.ceil(panels.length / columns);
  const out = image(columns * (w + 4) + 4, rows * (h + 4) + 4, [60, 60, 60]);
  panels.forEach((p, n) => {
    const [ox, oy] = [4 + (n % columns) * (w + 4), 4 + Math.floor(n / columns) * (h + 4)];
    for (let y = 0; y < h; y++) out.rgb.set(p.rgb.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * out.width + ox) * 3);
  });
  return out;
}

export async function fig3(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const tr = loadMnist("train");
  const te = loadMnist("test");
  const pick = (X: Float32Array, y: Int32Array, digit: number, max: number): Tensor => {
    const idx: number[] = [];
    for (let i = 0; i < y.length && idx.length < max; i++) if (y[i] === digit) idx.push(i);
    const data = new Float32Array(idx.length * 784);
    idx.forEach((n, i) => data.set(X.subarray(n * 784, (n + 1) * 784), i * 784));
    return { shape: [idx.length, 784], data };
  };
  // MNISTsmall: the digits of the first 10000 training images.
  const trainRows = ctx.quick ? 300 : 1000;
  const [six, nine] = [6, 9].map((d) => pick(tr.images.data.subarray(0, 10000 * 784), tr.labels.subarray(0, 10000), d, trainRows));
  const [six_t, nine_t] = [6, 9].map((d) => pick(te.images.data, te.labels, d, 2000));
  const acts: AeActivation[] = ["sigmoid", "tanh", "linear", "softplus", "square", "relu", "modulus"];
  const panels: Image[] = [];
  const lines = ["| activation | AE of 6: mean E on 6s − on 9s (in SDs) | AE of 9: on 9s − on 6s (in SDs) |", "|---|---|---|"];
  const sep = (a: number[], b: number[]) => {
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const pooled = a.concat(b);
    const m = mean(pooled);
    const sd = Math.sqrt(pooled.reduce((s, x) => s + (x - m) ** 2, 0) / pooled.length);
    return (mean(a) - mean(b)) / (sd || 1);
  };
  for (const act of acts) {
    const e = createEngineSync();
    const unbounded = act === "linear" || act === "square" || act === "relu" || act === "modulus";
    const models: Autoencoder[] = [];
    for (const [i, data] of [six, nine].entries()) {
      const r = rng((ctx.seed * 100 + i) % 2 ** 32);
      const ae = createAutoencoder(e, { D: 784, H: 100, activation: act, output: "real" }, r);
      const lr = act === "square" ? 0.0003 : unbounded ? 0.003 : 0.01;
      const o = { ...TRAIN_DEFAULTS, epochs: ctx.quick ? 5 : 20, lr, ...(act === "relu" || act === "modulus" ? { denoising: 0.25 } : { contractive: 0.5 }) };
      await trainAutoencoder(ae, data, o, startState(ae, o, r));
      models.push(ae);
    }
    const E = models.map((ae) => [six_t, nine_t].map((X) => Array.from(energy(ae, X))));
    panels.push(histogramPanel(E[0][0], E[0][1], 200, 90), histogramPanel(E[1][0], E[1][1], 200, 90));
    lines.push(`| ${act} | ${sep(E[0][0], E[0][1]).toFixed(2)} | ${sep(E[1][1], E[1][0]).toFixed(2)} |`);
    if (act === "sigmoid") {
      const err = (ae: typeof models[0], X: Tensor) => {
        const R = reconstruct(ae, X).data;
        const out: number[] = [];
        for (let n = 0; n < X.shape[0]; n++) {
          let s = 0;
          for (let j = 0; j < 784; j++) s += (R[n * 784 + j] - X.data[n * 784 + j]) ** 2;
          out.push(-s);
        }
        return out;
      };
      panels.push(histogramPanel(err(models[0], six_t), err(models[0], nine_t), 200, 90), histogramPanel(err(models[1], six_t), err(models[1], nine_t), 200, 90));
      lines.push(`| sigmoid, −squared reconstruction error | ${sep(err(models[0], six_t), err(models[0], nine_t)).toFixed(2)} | ${sep(err(models[1], nine_t), err(models[1], six_t)).toFixed(2)} |`);
    }
    ctx.log(`fig3 ${act} done`);
  }
  const fig = savePng(ctx, "fig3", "histograms.png", stack(panels, 2));
  writeReport(ctx, "fig3", "Fig. 3: class-specific energy distributions of digits 6 and 9", [
    `Contractive autoencoders (denoising for relu and modulus), 100 hiddens, real output, one per class, trained on the ${trainRows} first 6s and 9s of MNISTsmall (the first 10000 MNIST training images), scored on the 6s and 9s of the MNIST test set.`,
    `Each row of the figure is an activation (sigmoid, then sigmoid's −squared reconstruction error, then ${acts.slice(1).join(", ")}); left: the energies the autoencoder of 6s gives test 6s (blue) and 9s (red); right: those the autoencoder of 9s gives them. Higher is "liked" more.`,
    "",
    "The square activation (h = u², H = u³/3) barely trains at the learning rate that keeps it stable (0.0003) in this budget: its energies do not separate the classes here.",
    "",
    `![histograms](fig3/${fig.split("/").pop()})`,
    "",
    "Separation of the two distributions (difference of means over the pooled standard deviation; larger = better separated):",
    "",
    lines.join("\n"),
  ].join("\n"), (performance.now() - t0) / 1000);
}
