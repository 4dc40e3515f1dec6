// The paper's experiments, each reproduced by one command (`aescore reproduce <name> [--quick]`).
// Every experiment writes results/<name>.md (our number beside the paper's, the exact command, seed and
// configuration, the time it took) and its figures under results/<name>/. Finished configurations are
// cached in results/cache/<name>/ and skipped, so a long reproduction can be stopped and continued.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { createEngineSync } from "../engine/engine.js";
import { loadMnist, makeDir, writeAtomic } from "../node.js";
import { fit, fitCsae, FIT_DEFAULTS, type FitOptions } from "../train/fit.js";
import { scores, classIndices, type Csae } from "../model/csae.js";
import { errorRate } from "../train/finetune.js";
import { energySurface, SURFACE_DEFAULTS } from "../figures/energy-surface.js";
import { energy, reconstruct } from "../model/energy.js";
import { createAutoencoder, type AeActivation, type Autoencoder } from "../model/autoencoder.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS } from "../train/autoencoder.js";
import { rng } from "../random.js";
import { encodePng, image, mosaic, line, type Image, type RGB } from "../figures/plot.js";
import { InputError, quote } from "../errors.js";
import { DivergenceError } from "../train/driver.js";
import { generate } from "../datasets/generate.js";
import type { Tensor } from "../tensor.js";

export interface Context {
  quick: boolean;
  /** results/ */
  dir: string;
  workers?: number;
  seed: number;
  log: (line: string) => void;
  /** The command line that ran this, for the report. */
  command: string;
}

export interface Experiment {
  /** Whether --quick has a reduced configuration to run. */
  quick: boolean;
  summary: string;
  run(ctx: Context): Promise<void>;
}

export interface Split {
  X: Tensor;
  labels: string[];
}

/** Seconds of every configuration an experiment used, computed now or read back from the cache. */
const spent = new WeakMap<Context, number>();

/** Runs `compute` once per distinct config: a finished one is read back from the cache. */
export async function cached<T>(ctx: Context, experiment: string, config: object, compute: () => Promise<T>): Promise<{ value: T; seconds: number; fromCache: boolean }> {
  const key = createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 16);
  const dir = join(ctx.dir, "cache", experiment);
  const file = join(dir, `${key}.json`);
  let result: { value: T; seconds: number; fromCache: boolean };
  if (existsSync(file)) {
    let saved;
    try {
      saved = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new InputError(`${file}: a corrupt cache entry (${(err as Error).message}); delete it to recompute that configuration`);
    }
    result = { value: saved.value, seconds: saved.seconds, fromCache: true };
  } else {
    const t0 = performance.now();
    const value = await compute();
    result = { value, seconds: (performance.now() - t0) / 1000, fromCache: false };
    makeDir(dir);
    writeAtomic(file, JSON.stringify({ config, value, seconds: result.seconds }, null, 1));
  }
  spent.set(ctx, (spent.get(ctx) ?? 0) + result.seconds);
  return result;
}

function machine(): string {
  return `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, Node ${process.version}`;
}

function writeReport(ctx: Context, name: string, title: string, body: string, seconds: number): void {
  const text = `# ${title}\n\n${body}\n\n## How this was made\n\n- Command: \`${ctx.command}\`\n- Seed: ${ctx.seed}${ctx.quick ? " (--quick: the reduced configuration)" : ""}\n- Machine: ${machine()}\n- Wall time of this run: ${(seconds / 60).toFixed(1)} min${spent.has(ctx) ? `; all its configurations took ${(spent.get(ctx)! / 60).toFixed(1)} min when computed (${join(ctx.dir, "cache")})` : ""}\n- Date: ${new Date().toISOString().slice(0, 10)}\n`;
  makeDir(ctx.dir);
  writeAtomic(join(ctx.dir, `${name}.md`), text);
  ctx.log(`wrote ${join(ctx.dir, `${name}.md`)}`);
}

/** Real MNIST: 60000 training rows (the last `valid` held out) and the 10000 test rows. */
export function mnistSplits(valid: number, trainRows = 60000): { train: Split; valid?: Split; all: Split; test: Split } {
  const tr = loadMnist("train");
  const te = loadMnist("test");
  const rows = (X: Float32Array, y: Int32Array, a: number, b: number): Split => ({
    X: { shape: [b - a, 784], data: X.subarray(a * 784, b * 784) },
    labels: Array.from(y.subarray(a, b), String),
  });
  const n = Math.min(trainRows, 60000);
  return {
    train: rows(tr.images.data, tr.labels, 0, n - valid),
    valid: valid > 0 ? rows(tr.images.data, tr.labels, n - valid, n) : undefined,
    all: rows(tr.images.data, tr.labels, 0, n),
    test: rows(te.images.data, te.labels, 0, 10000),
  };
}

/** Test error (%) of a classifier. */
export function testError(m: Csae, test: Split): number {
  const y = classIndices(test.labels, m.classes, "test labels");
  return 100 * errorRate(scores(m, test.X), m.classes.length, y);
}

/** A difference with its sign: "+0.41", "-0.16". */
const signed = (x: number) => `${x > 0 ? "+" : ""}${x.toFixed(2)}`;

/** A table cell: ours in bold, then the paper's number and the difference. */
const versus = (ours: number, paper: number) => `**${ours.toFixed(2)}** (${paper}; ${signed(ours - paper)})`;

/** A mosaic of the first `per` filters of each class's autoencoder (rows: classes). */
export function filterMosaic(m: Csae, per: number): Image {
  const side = Math.round(Math.sqrt(m.aes[0].D));
  const tiles: Float32Array[] = [];
  for (const ae of m.aes) for (let k = 0; k < Math.min(per, ae.H); k++) tiles.push(ae.W.data.subarray(k * ae.D, (k + 1) * ae.D));
  return mosaic(tiles, side, Math.min(per, m.aes[0].H), 2);
}

function savePng(ctx: Context, name: string, file: string, img: Image): string {
  const dir = join(ctx.dir, name);
  makeDir(dir);
  const path = join(dir, file);
  writeAtomic(path, encodePng(img));
  return path;
}

// ---- npm start: the main job --------------------------------------------------------------------

/** The preset of `npm start`: H = 100 sigmoid, real output, contractive pretraining, finetuning. */
export const START: Pick<FitOptions, "hidden" | "activation" | "output" | "variant" | "pretrain" | "finetune"> = {
  hidden: 100,
  activation: "sigmoid",
  output: "real",
  variant: "csae",
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 10, lr: 0.03, contractive: 0.5 },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: 13, lr: 0.01 },
};

async function start(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const { train, valid, test } = mnistSplits(10000);
  ctx.log(`real MNIST: ${train.labels.length} training digits, ${valid!.labels.length} for validation, ${test.labels.length} test digits`);
  const e = createEngineSync();
  const m = await fitCsae(e, train.X, train.labels, {
    ...FIT_DEFAULTS, ...START, seed: ctx.seed, workers: ctx.workers, valid: valid!,
    onPretrain: (label, r) => {
      if (r.epoch === r.epochs) ctx.log(`pretrained class ${label}: loss ${r.loss.toFixed(3)}`);
    },
    onFinetune: (r) => ctx.log(`finetuning epoch ${r.epoch}/${r.epochs}: loss ${r.loss.toFixed(4)}, validation error ${(100 * r.valid!).toFixed(2)}%`),
  });
  const err = testError(m, test);
  const seconds = (performance.now() - t0) / 1000;
  const fig = savePng(ctx, "start", "filters.png", filterMosaic(m, 10));
  ctx.log(`test error on the 10000 MNIST test digits: ${err.toFixed(2)}% (paper: 1.27% with H = 500 and model selection) in ${(seconds / 60).toFixed(1)} min`);
  ctx.log(`figure: ${fig} (the first 10 filters of each class's autoencoder, one row per digit)`);
  writeReport(ctx, "start", "npm start: a sigmoid CSAE on real MNIST", [
    `| model | test error | paper |`,
    `|---|---|---|`,
    `| CSAE, sigmoid, H = 100, contractive pretraining, finetuned | **${err.toFixed(2)}%** | 1.27% (H = 500, model selection) |`,
    ``,
    `Configuration: ${JSON.stringify(START)}; 50000 training digits, the best finetuning epoch chosen on the last 10000 of MNIST's training file, tested on the 10000 test digits.`,
    ``,
    `![filters](start/filters.png)`,
  ].join("\n"), seconds);
}

// ---- Table 2: MNIST, the activations ---------------------------------------------------------------

interface Row {
  label: string;
  activation: AeActivation;
  factored: boolean;
  /** Pretraining regularizer: contractive λ, or denoising ν. */
  reg: { contractive?: number; denoising?: number };
  paper: number;
}

const TABLE2: Row[] = [
  { label: "sigmoid (contractive)", activation: "sigmoid", factored: false, reg: { contractive: 0.5 }, paper: 1.27 },
  { label: "modulus (denoising)", activation: "modulus", factored: false, reg: { denoising: 0.25 }, paper: 1.76 },
  { label: "linear (contractive)", activation: "linear", factored: false, reg: { contractive: 0.5 }, paper: 1.99 },
  { label: "tanh (factored, denoising)", activation: "tanh", factored: true, reg: { denoising: 0.25 }, paper: 2.02 },
  { label: "modulus (factored, denoising)", activation: "modulus", factored: true, reg: { denoising: 0.25 }, paper: 2.04 },
  { label: "relu (factored, denoising)", activation: "relu", factored: true, reg: { denoising: 0.25 }, paper: 2.35 },
  { label: "square (factored, denoising)", activation: "square", factored: true, reg: { denoising: 0.25 }, paper: 2.5 },
];

/** The grid and epochs of a reproduction; --quick shrinks them. */
function protocol(quick: boolean) {
  return quick
    ? { trainRows: 22000, valid: 2000, hidden: [100], pretrainEpochs: 5, finetuneEpochs: 6 }
    : { trainRows: 60000, valid: 10000, hidden: [100, 300, 500], pretrainEpochs: 10, finetuneEpochs: 13 };
}

/**
 * Learning rates that keep each model stable (docs/math.md §7.7: smaller as H grows). Unbounded activations
 * and the factored models (a product of three weight matrices) need smaller steps; square (h = u²)
 * the smallest. Found by short runs on 10000 digits: larger ones diverge (NaN) in the first epochs.
 */
function rates(activation: AeActivation, hidden: number, factored: boolean): { pretrain: number; finetune: number } {
  const unbounded = activation === "linear" || activation === "relu" || activation === "modulus";
  const base = activation === "square" ? 0.0003 : factored ? (unbounded ? 0.001 : 0.003) : unbounded ? 0.005 : 0.03;
  const scale = 100 / hidden;
  const finetune = activation === "square" || factored ? base : unbounded ? 0.001 : 0.01;
  return { pretrain: base * Math.min(1, scale * 2), finetune: finetune * scale };
}

/**
 * The learning rates the benchmark tables validate. The factored model with a bounded activation gets
 * a second, much larger finetuning rate: at `rates`' 0.003 its validation error was still falling after
 * 20 epochs on the MNIST sets (mnist-rot 30.5%; 14.4% at 0.1), while 0.1 breaks it on the two-class sets
 * (rectangles-image at chance), so validation chooses per set.
 */
function rateGrid(row: Row, hidden: number): Array<{ pretrain: number; finetune: number }> {
  const lr = rates(row.activation, hidden, row.factored);
  const bounded = row.activation === "sigmoid" || row.activation === "tanh";
  return row.factored && bounded ? [lr, { ...lr, finetune: 0.1 * (100 / hidden) }] : [lr];
}

/**
 * Fits one model of a table row. Small sets get more epochs, so that pretraining and finetuning take
 * at least p.minPretrainSteps / p.minFinetuneSteps minibatch steps (when given); `finetuneEpochs` fixes
 * the finetuning epochs instead (a refit repeats the epochs that validation chose). A fit whose loss
 * diverges is retried with a third of the learning rates (at most three times, logged). Returns the
 * model and, when validation data was given, the finetuning epoch with the lowest validation error.
 */
async function fitModel(
  ctx: Context, what: string, row: Row, variant: FitOptions["variant"], hidden: number, data: Split, valid: Split | undefined,
  p: { pretrainEpochs: number; finetuneEpochs: number; minPretrainSteps?: number; minFinetuneSteps?: number; decaySteps?: number },
  lr: { pretrain: number; finetune: number }, finetuneEpochs?: number,
): Promise<{ model: Csae; bestEpoch?: number }> {
  const e = createEngineSync();
  const perClass = data.labels.length / new Set(data.labels).size;
  const epochs = (base: number, rows: number, minSteps = 0) => Math.max(base, Math.ceil((minSteps * 100) / rows));
  for (let attempt = 0; ; attempt++) {
    const shrink = 3 ** -attempt;
    let bestEpoch: number | undefined;
    const o: FitOptions = {
      ...FIT_DEFAULTS, hidden, activation: row.activation, variant, seed: ctx.seed, workers: ctx.workers, valid,
      pretrain: {
        ...FIT_DEFAULTS.pretrain, epochs: epochs(p.pretrainEpochs, row.factored ? data.labels.length : perClass, p.minPretrainSteps), lr: lr.pretrain * shrink,
        contractive: row.reg.contractive ?? 0, denoising: row.reg.denoising ?? 0,
      },
      finetune: { ...FIT_DEFAULTS.finetune, epochs: finetuneEpochs ?? epochs(p.finetuneEpochs, data.labels.length, p.minFinetuneSteps), lr: lr.finetune * shrink, decay: ((p.decaySteps ?? 0) * 100) / data.labels.length },
      onFinetune: (r) => void (bestEpoch = r.bestEpoch),
    };
    try {
      const model = (await fit(e, data.X, data.labels, row.factored ? { ...o, factors: hidden } : o)).csae;
      return { model, bestEpoch };
    } catch (err) {
      if (!(err instanceof DivergenceError) || attempt === 3) throw err;
      ctx.log(`${what}, ${row.label}, H = ${hidden}: ${err.message}; retrying with learning rates / 3`);
    }
  }
}

async function table2(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = protocol(ctx.quick);
  const { train, valid, all, test } = mnistSplits(p.valid, p.trainRows);
  const lines = ["| model | hidden (selected) | validation error | test error | paper | ours − paper | time |", "|---|---|---|---|---|---|---|"];
  for (const row of TABLE2) {
    // Model selection over the hidden sizes on the validation split, then a refit on train + valid.
    const choices: Array<{ hidden: number; validError: number }> = [];
    for (const hidden of p.hidden) {
      const lr = rates(row.activation, hidden, row.factored);
      const { value } = await cached(ctx, "table2", { stage: "select", row, hidden, p, lr, seed: ctx.seed }, async () => {
        return { validError: testError((await fitModel(ctx, "table2", row, "csae", hidden, train, valid, p, lr)).model, valid!) };
      });
      ctx.log(`table2 ${row.label}, H = ${hidden}: validation error ${value.validError.toFixed(2)}%`);
      choices.push({ hidden, validError: value.validError });
    }
    const best = choices.reduce((a, b) => (b.validError < a.validError ? b : a));
    const lr = rates(row.activation, best.hidden, row.factored);
    const { value, seconds } = await cached(ctx, "table2", { stage: "final", row, hidden: best.hidden, p, lr, seed: ctx.seed }, async () => {
      return { testError: testError((await fitModel(ctx, "table2", row, "csae", best.hidden, all, undefined, p, lr)).model, test) };
    });
    ctx.log(`table2 ${row.label}: test error ${value.testError.toFixed(2)}% (paper ${row.paper}%)`);
    const gap = value.testError - row.paper;
    lines.push(`| ${row.label} | ${best.hidden} | ${best.validError.toFixed(2)}% | **${value.testError.toFixed(2)}%** | ${row.paper}% | ${signed(gap)} | ${(seconds / 60).toFixed(1)} min |`);
  }
  const seconds = (performance.now() - t0) / 1000;
  writeReport(ctx, "table2", "Table 2: MNIST test error of CSAEs with different activations", [
    lines.join("\n"),
    "",
    "Where we are behind the paper, why (as far as we can tell): every row selected the smallest hidden size, because with the learning rates scaled by 100/H and the same 10 + 13 epochs the larger models are undertrained (their validation error rises with H), while the paper's best results came from larger models tuned per size, over up to 100 epochs. The factored models, on learning rates small enough to keep their three-matrix product stable (src/reproduce.ts, `rates`), are the furthest behind. Modulus matches the paper. For the sigmoid row, further probes (results/table2-probes.md: longer pretraining, learning-rate decay, H = 300 and 500 with λ scaled down) reached 1.55% at best: the paper's 1.27% is 0.3 points (about two standard errors of a 10000-digit test) beyond anything we found.",
    "",
    `Protocol: ${p.trainRows - p.valid} training digits and ${p.valid} for validation (the last of MNIST's training file); the hidden size (factors = hidden for the factored models) is chosen from ${JSON.stringify(p.hidden)} by validation error (the best finetuning epoch kept); the chosen configuration is refitted on all ${p.trainRows} digits for the same epochs and tested on the 10000 test digits. Pretraining ${p.pretrainEpochs} epochs, finetuning ${p.finetuneEpochs} epochs, minibatch 100, momentum 0.9; learning rates by activation and size (src/reproduce.ts, \`rates\`).`,
  ].join("\n"), seconds);
}

// ---- Tables 3 and 4: the deep learning benchmark -----------------------------------------------------

interface Bench {
  train: Split;
  valid: Split;
  all: Split;
  test: Split;
}

const generated = new Map<string, Bench>();

/** A generated benchmark set (seeded; generated once per run, in memory), as labelled splits. */
function benchmark(name: string, ctx: Context): Bench {
  const key = `${name}/${ctx.seed}/${ctx.quick}`;
  const hit = generated.get(key);
  if (hit) return hit;
  ctx.log(`generating ${name} (seed ${ctx.seed})…`);
  const set = generate(name, { seed: ctx.seed });
  const split = (s: { X: Tensor; y: Int32Array }, max = Infinity): Split => {
    const n = Math.min(s.y.length, max);
    return { X: { shape: [n, 784], data: s.X.data.subarray(0, n * 784) }, labels: Array.from(s.y.subarray(0, n), String) };
  };
  const train = split(set.train);
  const valid = split(set.valid);
  const both = new Float32Array(train.X.data.length + valid.X.data.length);
  both.set(train.X.data);
  both.set(valid.X.data, train.X.data.length);
  const b: Bench = {
    train, valid,
    all: { X: { shape: [train.labels.length + valid.labels.length, 784], data: both }, labels: [...train.labels, ...valid.labels] },
    // --quick tests on the first 10000 of the 50000 test rows.
    test: split(set.test, ctx.quick ? 10000 : Infinity),
  };
  generated.set(key, b);
  return b;
}

/**
 * Selects the hidden size (and the learning rates of `rateGrid`) on valid, each candidate keeping its
 * best finetuning epoch; refits the chosen one on train + valid for the finetuning epochs validation
 * chose; tests. One cached entry per stage.
 * The candidates are tested too (`selectedTest`: the chosen one, trained on the training split only),
 * which shows how much the refit itself moves the number.
 */
async function selectAndTest(ctx: Context, experiment: string, set: string, row: Row, variant: FitOptions["variant"], p: ReturnType<typeof benchProtocol>): Promise<{ hidden: number; lr: { pretrain: number; finetune: number }; validError: number; finetuneEpochs?: number; selectedTest: number; testError: number; seconds: number }> {
  type Choice = { hidden: number; lr: { pretrain: number; finetune: number }; validError: number; finetuneEpochs?: number; testError: number };
  let best: Choice | undefined;
  for (const hidden of p.hidden) {
    for (const lr of rateGrid(row, hidden)) {
      const { value } = await cached(ctx, experiment, { stage: "select+test", set, row, variant, hidden, p, lr, seed: ctx.seed }, async () => {
        const b = benchmark(set, ctx);
        const fit = await fitModel(ctx, `${experiment} ${set}`, row, variant, hidden, b.train, b.valid, p, lr);
        return { validError: testError(fit.model, b.valid), finetuneEpochs: fit.bestEpoch, testError: testError(fit.model, b.test) };
      });
      ctx.log(`${experiment} ${set}, ${row.label}, ${variant}, H = ${hidden}, finetuning lr ${+lr.finetune.toPrecision(3)}: validation error ${value.validError.toFixed(2)}%${value.finetuneEpochs ? ` (finetuning epoch ${value.finetuneEpochs})` : ""}, test error ${value.testError.toFixed(2)}%`);
      if (!best || value.validError < best.validError) best = { hidden, lr, ...value };
    }
  }
  const c = best!;
  const { value, seconds } = await cached(ctx, experiment, { stage: "final", set, row, variant, hidden: c.hidden, finetuneEpochs: c.finetuneEpochs, p, lr: c.lr, seed: ctx.seed }, async () => {
    const b = benchmark(set, ctx);
    return { testError: testError((await fitModel(ctx, `${experiment} ${set}`, row, variant, c.hidden, b.all, undefined, p, c.lr, c.finetuneEpochs)).model, b.test) };
  });
  return { hidden: c.hidden, lr: c.lr, validError: c.validError, finetuneEpochs: c.finetuneEpochs, selectedTest: c.testError, testError: value.testError, seconds };
}

/** A cell of the "without the refit" tables: the selected model's test error and what was selected. */
function unrefitCell(r: Awaited<ReturnType<typeof selectAndTest>>, showLr: boolean): string {
  return `${r.selectedTest.toFixed(2)} (H = ${r.hidden}${showLr ? `, lr ${+r.lr.finetune.toPrecision(2)}` : ""}, epoch ${r.finetuneEpochs ?? "-"})`;
}

/** Table 3's columns: linear, modulus, sigmoid, sigmoid factored. */
const TABLE3_ROWS: Row[] = [
  { label: "linear", activation: "linear", factored: false, reg: { contractive: 0.5 }, paper: 0 },
  { label: "modulus", activation: "modulus", factored: false, reg: { denoising: 0.25 }, paper: 0 },
  { label: "sigmoid", activation: "sigmoid", factored: false, reg: { contractive: 0.5 }, paper: 0 },
  { label: "sigmoid (factored)", activation: "sigmoid", factored: true, reg: { denoising: 0.25 }, paper: 0 },
];

const TABLE3_PAPER: Record<string, number[]> = {
  rectangles: [0.84, 4.82, 2.72, 0.84],
  "rectangles-image": [25.3, 24.9, 21.45, 22.76],
  convex: [36.34, 23.18, 21.52, 22.12],
  "mnist-basic": [3.91, 5.17, 3.18, 3.62],
  "mnist-rot": [16.19, 13.22, 13.11, 14.46],
  "mnist-back-rand": [17.96, 17.08, 19.52, 12.64],
  "mnist-back-image": [22.37, 23.38, 21.87, 22.77],
  "mnist-rot-back-image": [56.15, 52.88, 54.79, 47.14],
};

const BENCH_NOTE = "The data sets are regenerated from the published recipes (src/datasets.ts, seeded; see each set's recipe JSON from `aescore datasets generate`): numbers are comparable to the paper's in spirit, not to the digit.";

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
const TABLE3_READING = [
  "Reading the committed run (seed 1), where it is behind and why as far as we can tell:",
  "- **rectangles-image**: every model is 5–10 points behind, and their validation errors are as high (29.5–32%), so it is not the refit: our regenerated set (its patches and the variance threshold, src/datasets.ts) is probably harder than the original, or these models need more than the grid gives them; we have not found out which.",
  "- **the factored sigmoid model** is behind on 5 sets: by 0.07 on mnist-basic, 3.5 on rectangles, 6.5 on mnist-back-rand and 13.2 on mnist-rot-back-image (plus rectangles-image). Its finetuning needs a learning rate 30 times larger than its pretraining on the MNIST sets (0.1·100/H: validation picks it there) but diverges at it on the two-class sets; at 0.1 the first attempt often diverges and is retried at a third, so a refit can end at another rate than the one validated: mnist-rot-back-image's validated model scores 52.6% on the test split, its refit 60.4%. The paper's factored model is its best on the two back-* sets; ours is its worst there, and we have not found out why.",
  "- **linear** is behind on 5 sets by 0.2–2.5 points (10 on rectangles-image), **modulus** on 3 (convex +4.9): these columns kept H = 100 or 300 and a fixed learning rate per activation; the paper also validated learning rate and weight decay.",
  "- Where we are far ahead (convex, mnist-back-rand, mnist-back-image, mnist-rot-back-image: 4–9 points), the regenerated sets are probably easier than the originals (convex: a third of our convex examples are all white, see the recipe; the backgrounds are other images), so those cells do not show a better model.",
].join("\n");

/** Table 5's CSAE column: the paper's best per set, with model selection. */
const TABLE5_PAPER: Record<string, number> = {
  rectangles: 0.84, "rectangles-image": 21.45, convex: 21.52, "mnist-basic": 2.61,
  "mnist-rot": 11.25, "mnist-back-rand": 12.64, "mnist-back-image": 20.15, "mnist-rot-back-image": 47.14,
};

async function table3(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = benchProtocol(ctx.quick);
  const head = ["| data set | linear | modulus | sigmoid | sigmoid (factored) |", "|---|---|---|---|---|"];
  const lines = [...head];
  const unrefit = [...head];
  const table5 = ["| data set | chosen by validation | validation error | test error | paper (Table 5, CSAE) | ours − paper |", "|---|---|---|---|---|---|"];
  let behind = 0;
  for (const set of Object.keys(TABLE3_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    let chosen: { label: string; hidden: number; validError: number; testError: number } | undefined;
    for (const [i, row] of TABLE3_ROWS.entries()) {
      const r = await selectAndTest(ctx, "table3", set, row, "csae", p);
      ctx.log(`table3 ${set}, ${row.label}: test error ${r.testError.toFixed(2)}% (H = ${r.hidden}; paper ${TABLE3_PAPER[set][i]}%)`);
      cells.push(versus(r.testError, TABLE3_PAPER[set][i]));
      early.push(unrefitCell(r, row.factored));
      if (r.testError > TABLE3_PAPER[set][i]) behind++;
      if (!chosen || r.validError < chosen.validError) chosen = { label: row.label, ...r };
    }
    lines.push(`| ${set} | ${cells.join(" | ")} |`);
    unrefit.push(`| ${set} | ${early.join(" | ")} |`);
    const c = chosen!;
    table5.push(`| ${set} | ${c.label}, H = ${c.hidden} | ${c.validError.toFixed(2)}% | **${c.testError.toFixed(2)}%** | ${TABLE5_PAPER[set]}% | ${signed(c.testError - TABLE5_PAPER[set])} |`);
  }
  const cells = (lines.length - 2) * TABLE3_ROWS.length;
  writeReport(ctx, "table3", "Table 3: test error (%) on the deep learning benchmark — ours (paper; ours − paper)", [
    lines.join("\n"), "", `${behind} of ${cells} cells are behind the paper.`, "", ctx.quick ? "(The reading of the full run is in ../table3.md.)" : TABLE3_READING, "",
    "## Table 5's CSAE column: one model per set, chosen by validation error among the four above", "",
    table5.join("\n"), "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The finetuning epoch is the one validation chose; the refit above repeats it on train + validation. Where the two tables differ by much, the refit's outcome is sensitive to the stopping epoch at these learning rates.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p),
  ].join("\n"), (performance.now() - t0) / 1000);
}

const TABLE4_PAPER: Record<string, number[]> = {
  "mnist-basic": [3.39, 3.66, 5.53, 3.38],
  "mnist-rot": [14.32, 20.85, 19.95, 13.77],
  convex: [44.36, 33.9, 24.02, 21.52],
};

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
const TABLE4_READING = [
  "Reading the committed run (seed 1): the paper's conclusions hold — the full CSAE is the best variant on all three sets, and finetuning the autoencoders beats learning only the normalization or a logistic regression on their energies. Where we are behind:",
  "- **no pretraining** (+2.0 on mnist-basic, +6.6 on mnist-rot): from random weights, 20 finetuning epochs at the CSAE's learning rate are not enough (the best validation epoch is the last); the paper trained for 100.",
  "- **learn normalization** (+0.4 on mnist-basic, +6.4 on convex) and **energies + logistic regression** (+1.0 on mnist-rot): both keep the pretrained autoencoders frozen, so they inherit our pretraining (fixed λ = 0.5, fixed epochs), which the paper tuned by looking at the filters.",
].join("\n");

async function table4(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = benchProtocol(ctx.quick);
  const sigmoid = TABLE3_ROWS[2];
  const variants: Array<FitOptions["variant"]> = ["energies", "normalization", "no-pretraining", "csae"];
  const head = ["| data set | energies + logistic regression | learn normalization | no pretraining | CSAE |", "|---|---|---|---|---|"];
  const lines = [...head];
  const unrefit = [...head];
  for (const set of Object.keys(TABLE4_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    for (const [i, variant] of variants.entries()) {
      // The CSAE column is Table 3's sigmoid cell: the same configuration, cached once.
      const r = await selectAndTest(ctx, variant === "csae" ? "table3" : "table4", set, sigmoid, variant, p);
      ctx.log(`table4 ${set}, ${variant}: test error ${r.testError.toFixed(2)}% (paper ${TABLE4_PAPER[set][i]}%)`);
      cells.push(versus(r.testError, TABLE4_PAPER[set][i]));
      early.push(unrefitCell(r, false));
    }
    lines.push(`| ${set} | ${cells.join(" | ")} |`);
    unrefit.push(`| ${set} | ${early.join(" | ")} |`);
  }
  writeReport(ctx, "table4", "Table 4: the CSAE's variants (sigmoid) — test error (%), ours (paper; ours − paper)", [
    lines.join("\n"), "", ctx.quick ? "(The reading of the full run is in ../table4.md.)" : TABLE4_READING, "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The energies + logistic regression variant has no finetuning epochs to choose: its refit trains for all of them.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p),
  ].join("\n"), (performance.now() - t0) / 1000);
}

function benchProtocol(quick: boolean) {
  return quick
    ? { hidden: [100], pretrainEpochs: 5, finetuneEpochs: 6, minPretrainSteps: 600, minFinetuneSteps: 600, decaySteps: 300 }
    : { hidden: [100, 300], pretrainEpochs: 20, finetuneEpochs: 20, minPretrainSteps: 1000, minFinetuneSteps: 2000, decaySteps: 300 };
}

function benchProtocolText(p: ReturnType<typeof benchProtocol>): string {
  return `Protocol: the hidden size (factors = hidden for the factored model) is chosen from ${JSON.stringify(p.hidden)} (for the factored model, with the finetuning learning rate from {0.003, 0.1}·100/H) by the error on each set's validation split, each candidate keeping its best finetuning epoch; the chosen configuration is refitted on train + validation with the finetuning stopped at that epoch, and tested on the test split. Pretraining ${p.pretrainEpochs} epochs and finetuning ${p.finetuneEpochs} epochs, or more on small sets so that pretraining takes at least ${p.minPretrainSteps} and finetuning ${p.minFinetuneSteps} minibatch steps; finetuning epoch t uses the learning rate · τ/(τ + t), τ being ${p.decaySteps} minibatch steps counted in epochs (3 epochs of 10000 rows; without the decay, the validation error of convex oscillated between 18% and 41% from epoch to epoch, so a refit's outcome hung on its stopping epoch); a fit whose loss diverges is retried with a third of the learning rates (logged). Pretraining with contractive λ = 0.5 (denoising ν = 0.25 for modulus and the factored model), minibatch 100, momentum 0.9, learning rates by activation and size (src/reproduce.ts, \`rates\`).`;
}

// ---- Fig. 2 and Fig. 3 ----------------------------------------------------------------------------

async function fig2(ctx: Context): Promise<void> {
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
function histogramPanel(a: number[], b: number[], width: number, height: number): Image {
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

function stack(panels: Image[], columns: number): Image {
  const [w, h] = [panels[0].width, panels[0].height];
  const rows = Math.ceil(panels.length / columns);
  const out = image(columns * (w + 4) + 4, rows * (h + 4) + 4, [60, 60, 60]);
  panels.forEach((p, n) => {
    const [ox, oy] = [4 + (n % columns) * (w + 4), 4 + Math.floor(n / columns) * (h + 4)];
    for (let y = 0; y < h; y++) out.rgb.set(p.rgb.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * out.width + ox) * 3);
  });
  return out;
}

async function fig3(ctx: Context): Promise<void> {
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
      const r = rng(ctx.seed * 100 + i);
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

async function filters(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const { train, test } = mnistSplits(0, ctx.quick ? 12000 : 60000);
  const e = createEngineSync();
  const o: FitOptions = { ...FIT_DEFAULTS, ...START, seed: ctx.seed, workers: ctx.workers, finetune: { ...START.finetune, epochs: 0 } };
  // "Pretrained only": the autoencoders as pretraining left them, with only their constants C learned
  // (the convex problem of docs/math.md §7.5); then the whole model finetuned from there.
  const before = await fitCsae(e, train.X, train.labels, { ...o, variant: "normalization", finetune: { ...START.finetune, epochs: 5 } });
  const after = await fitCsae(e, train.X, train.labels, { ...o, init: before, finetune: { ...START.finetune, epochs: ctx.quick ? 3 : 13 } });
  const a = savePng(ctx, "filters", "pretrained.png", filterMosaic(before, 10));
  const b = savePng(ctx, "filters", "finetuned.png", filterMosaic(after, 10));
  writeReport(ctx, "filters", "Filters before and after finetuning", [
    `The first 10 filters of each class's autoencoder (rows: digits 0–9), sigmoid, H = 100, after contractive pretraining and after discriminative finetuning on ${train.labels.length} MNIST digits.`,
    `Test error: pretrained only (autoencoders frozen, C learned) ${testError(before, test).toFixed(2)}%, finetuned ${testError(after, test).toFixed(2)}%.`,
    "",
    `![pretrained](filters/${a.split("/").pop()}) ![finetuned](filters/${b.split("/").pop()})`,
  ].join("\n"), (performance.now() - t0) / 1000);
}

export const EXPERIMENTS: Record<string, Experiment> = {
  start: { quick: false, summary: "the README's main job: a sigmoid CSAE on the full real MNIST in about a minute", run: start },
  table2: { quick: true, summary: "Table 2: MNIST test error for the activations (model selection over hidden sizes)", run: table2 },
  table3: { quick: true, summary: "Table 3: 8 benchmark sets x linear / modulus / sigmoid / sigmoid factored", run: table3 },
  table4: { quick: true, summary: "Table 4: the variants on mnist-basic, mnist-rot, convex", run: table4 },
  fig2: { quick: true, summary: "Fig. 2: energy surface, field and reconstruction error on a circle", run: fig2 },
  fig3: { quick: true, summary: "Fig. 3: energy histograms of digits 6 and 9 under each activation", run: fig3 },
  filters: { quick: true, summary: "filter mosaics before and after finetuning", run: filters },
};

export async function reproduce(name: string, ctx: Context): Promise<void> {
  const x = EXPERIMENTS[name];
  if (!x) throw new InputError(`reproduce: unknown experiment ${quote(name)} (${Object.keys(EXPERIMENTS).join(", ")})`);
  if (ctx.quick && !x.quick) throw new InputError(`reproduce: ${name} has no quick configuration (it is short already): drop --quick`);
  await x.run(ctx);
}
