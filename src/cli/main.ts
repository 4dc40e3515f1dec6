#!/usr/bin/env node
// The `aescore` command line. Each command declares its options once; --help is built from them.
// A command checks every option, every input file and every output path before any work starts,
// and answers bad input with one line: `aescore <command>: <what is wrong, and where>`.

import { realpathSync } from "node:fs";
import { freemem } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { AescoreError, InputError, quote } from "../errors.js";
import { decodeSafetensors } from "../formats/safetensors.js";
import { readBytes, readArray, writeArray, writeAtomic, formatOf, checkWritable, checkNotInput, makeDir } from "../node.js";
import { createEngineSync, fromArray, type Engine } from "../engine/engine.js";
import {
  AE_ACTIVATIONS, checkInput, checkSpec, decodeAutoencoder, encodeAutoencoder,
  type Autoencoder, type AutoencoderSpec, type AeActivation, type Output,
} from "../model/autoencoder.js";
import { TRAIN_DEFAULTS, checkTrainOptions, type EpochReport, type TrainOptions } from "../train/autoencoder.js";
import { trainClasses, type ClassJob, type Params } from "../train/parallel.js";
import { energySurface, SURFACE_DEFAULTS } from "../figures/energy-surface.js";
import { classesOf, rowsWithLabel, classIndices, fit, selectCsae, FIT_DEFAULTS, VARIANTS, type FitOptions, type Variant } from "../train/fit.js";
import { decodeModel, encodeModel, autoencodersOf, type Model } from "../model/files.js";
import { predict, predictProba, scores, argmaxRows, type Csae } from "../model/csae.js";
import type { FinetuneReport } from "../train/finetune.js";
import { EXPERIMENTS, reproduce } from "../reproduce/experiments.js";
import { DATASETS, generate, writeDataset } from "../datasets/generate.js";
import { energy, reconstruct, field, laplacian, hidden } from "../model/energy.js";
import { encodeCsae, initialConstants } from "../model/csae.js";
import { encodeCsv } from "../formats/idx-csv.js";
import { checkMemory } from "../train/memory.js";
import { parseOptions, suggest, int, real, list, choice, type Option, type Values } from "./args.js";
import type { Tensor } from "../tensor.js";

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, Option>;
  /** Whether the command takes positional arguments (an experiment's name, a model file). */
  positionals?: boolean;
  run(values: Values, positionals: string[], given: Set<string>): Promise<void> | void;
}

const HELP: Option = { type: "boolean", short: "h", help: "show this help" };

function helpText(name: string, c: Command): string {
  const lines = [`aescore ${name}: ${c.summary}`, "", `usage: aescore ${name} ${c.usage}`, "", "options:"];
  for (const [key, o] of Object.entries({ ...c.options, help: HELP })) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${key}`;
    const def = o.required ? " (required)" : o.default !== undefined ? ` (default ${o.default})` : "";
    lines.push(`  ${flag.padEnd(22)} ${o.help}${def}`);
  }
  return lines.join("\n");
}

// Options shared by the commands that read rows.
const SCALE: Option = { type: "string", default: "auto", help: "auto: u8 input (IDX pixels, |u1 .npy) is divided by 255; none: used as is" };
const HEADER: Option = { type: "boolean", help: "the first line of CSV inputs is a header (without it, only a line of names is one)" };
const OUTPUT_TYPE: Option = { type: "string", default: FIT_DEFAULTS.output, help: "real|binary  the model's output (binary: inputs in [0, 1], cross-entropy)" };
const ACTIVATION: Option = { type: "string", default: FIT_DEFAULTS.activation, help: AE_ACTIVATIONS.filter((a) => a !== "kmeans").join("|") };
const WORKERS: Option = { type: "string", help: "N  worker threads (default: one per core; 0: this thread)" };
const QUIET: Option = { type: "boolean", short: "q", help: "no progress output" };

const commands: Record<string, Command> = {};

commands.info = {
  summary: "describe a model file: kind, activation, tensors and shapes",
  usage: "MODEL.safetensors",
  options: {},
  positionals: true,
  run(_values, positionals) {
    if (positionals.length !== 1) throw new InputError(`give exactly one model file (got ${positionals.length})`);
    const path = positionals[0];
    const { tensors, metadata } = decodeSafetensors(readBytes(path), path);
    console.log(path);
    for (const [k, v] of Object.entries(metadata)) console.log(`  ${k}: ${v}`);
    for (const [name, t] of Object.entries(tensors)) console.log(`  tensor ${name} [${t.shape.join(", ")}]`);
  },
};

/** Any model file, read and decoded once. */
function loadModel(e: Engine, path: string): Model {
  return decodeModel(e, readBytes(path), path);
}

/**
 * Reads an input array as (N, D) rows: trailing dimensions are flattened (28x28 images become 784);
 * u8 data (IDX pixels, |u1 .npy) is divided by 255 unless scale is "none".
 */
export function readRows(path: string, values: Values): Tensor {
  const scale = choice(values, "scale", ["auto", "none"] as const);
  const t = readArray(path, { header: values.header === true ? true : undefined });
  if (t.data.length === 0) throw new InputError(`${path}: holds no values (shape [${t.shape.join(", ")}])`);
  const N = t.shape.length <= 1 ? 1 : t.shape[0];
  const D = t.shape.length <= 1 ? t.data.length : t.data.length / N;
  if (scale === "auto" && (t.dtype === "u8" || t.dtype === "|u1")) for (let i = 0; i < t.data.length; i++) t.data[i] /= 255;
  return { shape: [N, D], data: t.data };
}

/**
 * Labels as strings, one per row: a 1-D array (or N x 1) of finite numbers from .npy, IDX or CSV.
 * Integral labels read as "3" whatever their dtype, so 3.0 and 3 are one class.
 */
export function readLabels(path: string, N: number, values: Values): string[] {
  const t = readArray(path, { header: values.header === true ? true : undefined });
  const [n, ...rest] = t.shape;
  if (t.shape.length === 0 || t.shape.length > 2 || rest.some((d) => d !== 1)) {
    throw new InputError(`${path}: labels must be one column (shape [N] or [N, 1]), not [${t.shape.join(", ")}]`);
  }
  if (n !== N) throw new InputError(`${path}: ${n} labels for ${N} data rows`);
  const bad = t.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${path}: label ${bad} (row ${bad} of the data) is ${quote(t.data[bad])}, not a finite number`);
  return Array.from(t.data, (v) => String(v === 0 ? 0 : v));
}

const WHAT = ["energy", "reconstruction", "field", "laplacian", "hidden"] as const;

// Per-row results (energy, laplacian) of K models stack as (N, K); per-row vectors as (K, N, ·).
function stack(results: Tensor[]): Tensor {
  if (results.length === 1) return results[0];
  const K = results.length;
  const [N, ...rest] = results[0].shape;
  if (rest.length === 0) {
    const out = new Float32Array(N * K);
    results.forEach((r, i) => r.data.forEach((v, n) => (out[n * K + i] = v)));
    return { shape: [N, K], data: out };
  }
  const out = new Float32Array(K * results[0].data.length);
  results.forEach((r, i) => out.set(r.data, i * r.data.length));
  return { shape: [K, N, ...rest], data: out };
}

/** An output file: a known format, not one of the inputs, writable; all checked before any work. */
function checkOutput(path: string, inputs: Record<string, string | undefined>, what = "output", array = true): void {
  if (array) {
    const format = formatOf(path);
    if (path.toLowerCase().endsWith(".gz")) throw new InputError(`${path}: writing gzip is not supported`);
    if (format === "idx") throw new InputError(`${path}: results are written as .npy or .csv`);
  }
  checkNotInput(path, inputs);
  checkWritable(path, what);
}

commands.energy = {
  summary: "energies (or reconstruction, field, Laplacian, hidden units) of a model for every input row",
  usage: "--model M.safetensors --input X.(npy|csv|idx) [--output OUT.(npy|csv)] [--what energy]",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows: .npy (f32, f64, u8), .csv, IDX (optionally .gz)" },
    output: { type: "string", help: "FILE  where to write the result (.npy or .csv); default: CSV on stdout" },
    what: { type: "string", default: "energy", help: `${WHAT.join("|")}` },
    scale: SCALE,
    header: HEADER,
  },
  run(v) {
    const model = v.model as string;
    const input = v.input as string;
    const what = choice(v, "what", WHAT);
    if (typeof v.output === "string") checkOutput(v.output, { "--model": model, "--input": input });
    const e = createEngineSync();
    const aes = autoencodersOf(loadModel(e, model));
    const X = readRows(input, v);
    checkInput(aes[0], X, input); // before any work, naming the file
    const one = (ae: Autoencoder): Tensor => {
      const N = X.shape[0];
      if (what === "energy") return { shape: [N], data: energy(ae, X) };
      if (what === "laplacian") return { shape: [N], data: laplacian(ae, X) };
      return (what === "reconstruction" ? reconstruct : what === "field" ? field : hidden)(ae, X);
    };
    const result = stack(aes.map(one));
    if (typeof v.output === "string") writeArray(v.output, result);
    else process.stdout.write(encodeCsv(result));
  },
};

// ---- training ---------------------------------------------------------------------------------

/** Splits off the last ⌊f·N⌋ rows as validation data. */
export function splitValid(X: Tensor, f: number): { train: Tensor; valid?: Tensor } {
  const [N, D] = X.shape;
  const v = Math.floor(f * N);
  if (v === 0) return { train: X };
  return {
    train: { shape: [N - v, D], data: X.data.subarray(0, (N - v) * D) },
    valid: { shape: [v, D], data: X.data.subarray((N - v) * D) },
  };
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Progress of long runs on stderr: one line rewritten in place on a TTY, plain lines otherwise. */
export function progressPrinter(quiet: boolean): { epoch: (who: string, r: EpochReport) => void; line: (text: string) => void } {
  const tty = process.stderr.isTTY === true;
  let pending = false;
  const line = (text: string) => {
    if (quiet) return;
    if (pending) process.stderr.write("\n");
    pending = false;
    process.stderr.write(text + "\n");
  };
  return {
    line,
    epoch(who, r) {
      if (quiet) return;
      const text = `${who}epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toPrecision(5)}${r.valid === undefined ? "" : `  valid ${r.valid.toPrecision(5)}`}  ${Math.round(r.examplesPerSec)} ex/s  ETA ${clock(r.etaMs)}`;
      if (tty) {
        process.stderr.write(`\r${text}\x1b[K`);
        pending = true;
      } else {
        process.stderr.write(text + "\n");
      }
    },
  };
}

/** The seed option: an integer in [0, 2^32). */
function seedOf(v: Values): number {
  const seed = int(v, "seed", 0);
  if (seed >= 2 ** 32) throw new InputError(`--seed must be an integer in [0, 4294967295], not ${v.seed}`);
  return seed;
}

const workersOf = (v: Values): number | undefined => (v.workers === undefined ? undefined : int(v, "workers", 0));

/** The engines a job runs on side by side: its worker threads (at most one per class), or this thread. */
async function instances(workers: number | undefined, K: number): Promise<number> {
  const n = workers ?? (await import("node:os")).availableParallelism();
  return Math.max(1, Math.min(n, K));
}

commands["train-ae"] = {
  summary: "train autoencoders (contractive or denoising): one, one class's, or one per class",
  usage: "--data X [--labels L [--class c]] --hidden 100 --activation sigmoid --output-type real|binary (--contractive λ | --denoising ν) --save M.safetensors",
  options: {
    data: { type: "string", required: true, help: "FILE  training rows (.npy, .csv, IDX; u8 scaled by 1/255 unless --scale none)" },
    labels: { type: "string", help: "FILE  one label per row: trains one autoencoder per class and saves a csae model" },
    class: { type: "string", help: "LABEL  train only on the rows of this class (saves one autoencoder)" },
    hidden: { type: "string", default: String(FIT_DEFAULTS.hidden), help: "N  hidden units" },
    activation: ACTIVATION,
    "output-type": OUTPUT_TYPE,
    contractive: { type: "string", help: "λ  contractive penalty weight" },
    denoising: { type: "string", help: "ν  corruption level (each input zeroed with probability ν)" },
    epochs: { type: "string", default: String(TRAIN_DEFAULTS.epochs), help: "N" },
    batch: { type: "string", default: String(TRAIN_DEFAULTS.batch), help: "N  minibatch rows" },
    lr: { type: "string", default: String(TRAIN_DEFAULTS.lr), help: "learning rate" },
    momentum: { type: "string", default: String(TRAIN_DEFAULTS.momentum), help: "momentum" },
    "weight-decay": { type: "string", default: String(TRAIN_DEFAULTS.weightDecay), help: "L2 weight decay on W" },
    renormalize: { type: "string", default: String(TRAIN_DEFAULTS.renormalize), help: "after each step, rescale every filter to this norm (0: off)" },
    "valid-fraction": { type: "string", default: "0", help: "hold out the last fraction of each class's rows for validation (best epoch kept)" },
    patience: { type: "string", default: String(TRAIN_DEFAULTS.patience), help: "stop after N epochs without a better validation loss (0: never)" },
    seed: { type: "string", default: "0", help: "seed of the generator (initialization, shuffling, corruption)" },
    init: { type: "string", help: "FILE  start from these weights (an autoencoder, or a csae with the same classes)" },
    save: { type: "string", required: true, help: "FILE  where to write the model (.safetensors, atomically)" },
    checkpoint: { type: "string", help: "DIR  save a checkpoint every epoch" },
    resume: { type: "boolean", help: "continue from the checkpoints in --checkpoint" },
    workers: WORKERS,
    scale: SCALE,
    header: HEADER,
    quiet: QUIET,
  },
  async run(v) {
    const dataPath = v.data as string;
    const save = v.save as string;
    const spec = { D: 0, H: int(v, "hidden", 1), activation: choice(v, "activation", AE_ACTIVATIONS), output: choice(v, "output-type", ["real", "binary"] as const) };
    const o: TrainOptions = {
      epochs: int(v, "epochs", 1),
      batch: int(v, "batch", 1),
      lr: real(v, "lr", 0, Infinity, false, true),
      momentum: real(v, "momentum", 0, 1, true),
      weightDecay: real(v, "weight-decay", 0),
      contractive: v.contractive === undefined ? 0 : real(v, "contractive", 0),
      denoising: v.denoising === undefined ? 0 : real(v, "denoising", 0, 1, true),
      renormalize: real(v, "renormalize", 0),
      patience: int(v, "patience", 0),
    };
    const validFraction = real(v, "valid-fraction", 0, 1, true);
    const seed = seedOf(v);
    const workers = workersOf(v);
    if (v.resume && !v.checkpoint) throw new InputError("--resume needs --checkpoint DIR");
    if (v.class !== undefined && !v.labels) throw new InputError("--class needs --labels");
    const inputs = { "--data": dataPath, "--labels": v.labels as string | undefined, "--init": v.init as string | undefined };
    checkOutput(save, inputs, "model", false);
    const X = readRows(dataPath, v);
    spec.D = X.shape[1];
    checkSpec(spec);
    checkTrainOptions(spec, o);
    checkInput(spec, X, dataPath);

    // The jobs: the whole data set, one class, or every class.
    const labels = v.labels ? readLabels(v.labels as string, X.shape[0], v) : undefined;
    const classes = labels ? (v.class !== undefined ? [String(v.class)] : classesOf(labels)) : ["all"];
    if (labels && v.class !== undefined && !labels.includes(String(v.class))) {
      throw new InputError(`class ${quote(v.class)} does not occur in ${v.labels} (classes: ${classesOf(labels).join(", ")})`);
    }
    checkMemory({ D: spec.D, H: spec.H, K: classes.length, N: X.shape[0], B: o.batch, instances: await instances(classes.length > 1 ? workers : 0, classes.length), finetune: false }, freemem());
    const e = createEngineSync();
    const init = v.init ? initParams(e, v.init as string, classes, spec) : undefined;
    // A class's generator is seeded by its position among all the classes, so training one class
    // alone gives the same autoencoder as training it with the others.
    const all = labels ? classesOf(labels) : classes;
    const jobs: ClassJob[] = classes.map((label, i) => {
      const rows = labels ? rowsWithLabel(X, labels, label) : X;
      const { train, valid } = splitValid(rows, validFraction);
      if (train.shape[0] === 0) throw new InputError(`class ${label} has no training rows`);
      return { index: all.indexOf(label), label, data: train, valid, init: init?.[i] };
    });
    if (v.checkpoint) makeDir(v.checkpoint as string, "checkpoint directory");

    const show = progressPrinter(v.quiet === true);
    const many = jobs.length > 1;
    const t0 = performance.now();
    const results = await trainClasses(spec, o, jobs, {
      workers: many ? workers : 0,
      seed,
      checkpointDir: v.checkpoint as string | undefined,
      resume: v.resume === true,
      onEpoch: (job, r) => show.epoch(many ? `[class ${job.label}] ` : "", r),
    });
    for (const [i, r] of results.entries()) {
      const last = r.history.at(-1);
      show.line(`${many ? `class ${classes[i]}: ` : ""}${r.history.length} epochs${last ? `, loss ${last.loss.toPrecision(5)}` : ""}${r.bestEpoch ? `, best validation epoch ${r.bestEpoch}` : ""}`);
    }
    const aes = results.map((r, i) => ({
      ...spec,
      W: fromArray(e, `W${i}`, spec.H, spec.D, r.W),
      bh: fromArray(e, `bh${i}`, 1, spec.H, r.bh),
      br: fromArray(e, `br${i}`, 1, spec.D, r.br),
    }));
    if (!labels || v.class !== undefined) {
      writeAtomic(save, encodeAutoencoder(aes[0]));
    } else {
      // The constants a classifier starts finetuning from (docs/math.md §7.4).
      writeAtomic(save, encodeCsae({ classes, aes, C: initialConstants(aes, jobs.map((j) => j.data)) }));
    }
    show.line(`saved ${save} (${clock(performance.now() - t0)})`);
  },
};

/** --init weights for each class: one autoencoder for all, or a csae with the same classes. */
function initParams(e: Engine, path: string, classes: string[], spec: AutoencoderSpec): Params[] {
  const m = loadModel(e, path);
  const aes = autoencodersOf(m);
  const a = aes[0];
  if (a.D !== spec.D || a.H !== spec.H) throw new InputError(`${path}: its autoencoders are ${a.H}x${a.D}, not ${spec.H}x${spec.D} (--hidden x data columns)`);
  if (a.activation !== spec.activation || a.output !== spec.output) {
    throw new InputError(`${path}: a ${a.activation}/${a.output} model, but --activation ${spec.activation} --output-type ${spec.output} asked for`);
  }
  if (m.kind === "factored-csae") throw new InputError(`${path}: a factored model's autoencoders share weights; start a plain one from a csae or autoencoder file`);
  const params = (ae: Autoencoder): Params => ({ W: ae.W.data.slice(), bh: ae.bh.data.slice(), br: ae.br.data.slice() });
  if (m.kind === "autoencoder") return classes.map(() => params(a));
  const known = m.csae.classes;
  return classes.map((c) => {
    const i = known.indexOf(c);
    if (i < 0) throw new InputError(`${path}: has no class ${quote(c)} (it has ${known.join(", ")})`);
    return params(aes[i]);
  });
}

// ---- the classifier ----------------------------------------------------------------------------

/** A classifier model file (csae or factored-csae) as K autoencoders with C. */
function loadClassifier(e: Engine, path: string): Csae & { factored?: boolean } {
  const m = loadModel(e, path);
  if (m.kind === "autoencoder") throw new InputError(`${path}: is an autoencoder model, not a classifier (csae or factored-csae)`);
  return { ...m.csae, factored: m.kind === "factored-csae" };
}

// What a model file fixes about its architecture, and the option that would contradict it.
const ARCHITECTURE = ["hidden", "activation", "output-type", "factored", "factors"] as const;
const PRETRAINING = ["contractive", "denoising", "pretrain-epochs", "pretrain-lr"] as const;

commands.train = {
  summary: "train a class-specific autoencoder classifier (pretraining per class, then finetuning)",
  usage: "--data X --labels L [--valid-fraction 0.1] --hidden 100 --activation sigmoid --contractive 0.5 --save M.safetensors",
  options: {
    data: { type: "string", required: true, help: "FILE  training rows (.npy, .csv, IDX; u8 scaled by 1/255 unless --scale none)" },
    labels: { type: "string", required: true, help: "FILE  one label per row" },
    valid: { type: "string", help: "FILE  validation rows (the best finetuning epoch is kept)" },
    "valid-labels": { type: "string", help: "FILE  their labels" },
    "valid-fraction": { type: "string", default: "0", help: "or: hold out the last fraction of the training rows" },
    hidden: { type: "string", default: String(FIT_DEFAULTS.hidden), help: "N[,N…]  hidden units (a list: model selection)" },
    activation: ACTIVATION,
    "output-type": OUTPUT_TYPE,
    contractive: { type: "string", help: `λ  pretraining contractive penalty (default ${FIT_DEFAULTS.pretrain.contractive} unless --denoising)` },
    denoising: { type: "string", help: "ν  pretraining corruption level" },
    variant: { type: "string", default: FIT_DEFAULTS.variant, help: VARIANTS.join("|") },
    factored: { type: "boolean", help: "the factored CSAE (shared Wx, Wh; per-class Wf, Bh, Br)" },
    factors: { type: "string", default: "100", help: "F  factors of the factored model" },
    "pretrain-epochs": { type: "string", default: String(FIT_DEFAULTS.pretrain.epochs), help: "N" },
    "pretrain-lr": { type: "string", default: String(FIT_DEFAULTS.pretrain.lr), help: "pretraining learning rate" },
    epochs: { type: "string", default: String(FIT_DEFAULTS.finetune.epochs), help: "N  finetuning epochs" },
    lr: { type: "string", default: String(FIT_DEFAULTS.finetune.lr), help: "R[,R…]  finetuning learning rate (a list: model selection)" },
    "weight-decay": { type: "string", default: String(FIT_DEFAULTS.finetune.weightDecay), help: "D[,D…]  finetuning weight decay (a list: model selection)" },
    batch: { type: "string", default: String(FIT_DEFAULTS.finetune.batch), help: "N  minibatch rows" },
    momentum: { type: "string", default: String(FIT_DEFAULTS.finetune.momentum), help: "momentum (pretraining and finetuning)" },
    patience: { type: "string", default: String(FIT_DEFAULTS.finetune.patience), help: "stop finetuning after N epochs without a lower validation error" },
    "lr-decay": { type: "string", default: String(FIT_DEFAULTS.finetune.decay), help: "τ  finetuning epoch t uses lr·τ/(τ+t) (0: constant)" },
    seed: { type: "string", default: "0", help: "N" },
    init: { type: "string", help: "FILE  with --finetune-only: the csae model to finetune (its architecture is taken from the file)" },
    "finetune-only": { type: "boolean", help: "with --init: no pretraining, finetune the given model" },
    workers: WORKERS,
    scale: SCALE,
    header: HEADER,
    save: { type: "string", required: true, help: "FILE  where to write the model (.safetensors, atomically)" },
    quiet: QUIET,
  },
  async run(v, _positionals, given) {
    const save = v.save as string;
    if (v["finetune-only"] && !v.init) throw new InputError("--finetune-only needs --init M0.safetensors");
    if (v.init && !v["finetune-only"]) throw new InputError("--init is for finetuning a given model: add --finetune-only");
    const hidden = list(v, "hidden", (x, n) => int(x, n, 1));
    const lrs = list(v, "lr", (x, n) => real(x, n, 0, Infinity, false, true));
    const decays = list(v, "weight-decay", (x, n) => real(x, n, 0));
    const variant = choice(v, "variant", VARIANTS) as Variant;
    const finetuneOnly = v["finetune-only"] === true;
    if (finetuneOnly) {
      if (hidden.length > 1) throw new InputError("--finetune-only finetunes the given model: a list of --hidden is model selection");
    }
    // With --finetune-only no pretraining runs: its options are not read (a note says they are unused).
    const denoising = finetuneOnly || v.denoising === undefined ? 0 : real(v, "denoising", 0, 1, true);
    const o: FitOptions = {
      ...FIT_DEFAULTS,
      hidden: hidden[0],
      activation: choice(v, "activation", AE_ACTIVATIONS),
      output: choice(v, "output-type", ["real", "binary"] as const),
      variant,
      seed: seedOf(v),
      workers: workersOf(v),
      pretrain: finetuneOnly ? { ...FIT_DEFAULTS.pretrain } : {
        ...FIT_DEFAULTS.pretrain,
        epochs: int(v, "pretrain-epochs", 1),
        lr: real(v, "pretrain-lr", 0, Infinity, false, true),
        batch: int(v, "batch", 1),
        momentum: real(v, "momentum", 0, 1, true),
        contractive: v.contractive !== undefined ? real(v, "contractive", 0) : denoising > 0 || v.factored ? 0 : FIT_DEFAULTS.pretrain.contractive,
        denoising,
      },
      finetune: {
        ...FIT_DEFAULTS.finetune,
        epochs: int(v, "epochs", 1),
        lr: lrs[0],
        weightDecay: decays[0],
        batch: int(v, "batch", 1),
        momentum: real(v, "momentum", 0, 1, true),
        patience: int(v, "patience", 0),
        decay: real(v, "lr-decay", 0),
      },
    };
    const factors = int(v, "factors", 1);
    if (v.factored && given.has("contractive")) throw new InputError("the factored model is pretrained by denoising (--denoising ν), not with the contractive penalty");
    const selection = hidden.length > 1 || lrs.length > 1 || decays.length > 1;
    if (selection && v.factored) throw new InputError("model selection (lists of --hidden, --lr or --weight-decay) is for the plain CSAE");
    if (!v.valid && v["valid-labels"]) throw new InputError("--valid-labels needs --valid");
    if (v.valid && !v["valid-labels"]) throw new InputError("--valid needs --valid-labels");
    if (v.valid && given.has("valid-fraction")) throw new InputError("give --valid with --valid-labels, or --valid-fraction, not both");
    const validFraction = real(v, "valid-fraction", 0, 1, true);
    checkOutput(save, {
      "--data": v.data as string, "--labels": v.labels as string, "--valid": v.valid as string | undefined,
      "--valid-labels": v["valid-labels"] as string | undefined, "--init": v.init as string | undefined,
    }, "model", false);

    const X = readRows(v.data as string, v);
    const labels = readLabels(v.labels as string, X.shape[0], v);
    let train = { X, labels };
    let valid: { X: Tensor; labels: string[] } | undefined;
    if (v.valid) {
      const VX = readRows(v.valid as string, v);
      valid = { X: VX, labels: readLabels(v["valid-labels"] as string, VX.shape[0], v) };
    } else {
      const { train: t, valid: vx } = splitValid(X, validFraction);
      if (vx) {
        train = { X: t, labels: labels.slice(0, t.shape[0]) };
        valid = { X: vx, labels: labels.slice(t.shape[0]) };
      }
    }
    if (selection && !valid) throw new InputError("model selection (lists of --hidden, --lr or --weight-decay) needs validation data");
    const e = createEngineSync();
    let init: Csae | undefined;
    if (finetuneOnly) {
      // The model file is the truth about its own architecture: options may only agree with it.
      const m = loadClassifier(e, v.init as string);
      const a = m.aes[0];
      const has: Record<(typeof ARCHITECTURE)[number], string> = {
        hidden: String(a.H), activation: a.activation, "output-type": a.output, factored: String(m.factored === true), factors: "",
      };
      for (const name of ARCHITECTURE) {
        if (!given.has(name) || name === "factors") continue;
        const asked = name === "factored" ? "true" : name === "hidden" ? String(hidden[0]) : String(v[name]);
        if (asked !== has[name]) throw new InputError(`--${name} ${name === "factored" ? "" : `${asked} `}contradicts ${v.init}, which is a ${a.H}-hidden ${a.activation}/${a.output}${m.factored ? " factored" : ""} model`.replace("  ", " "));
      }
      if (m.factored) throw new InputError(`${v.init}: finetuning a saved factored model is not supported (its classes share Wx and Wh); train it with --factored`);
      if (m.rule && m.rule !== "energy") throw new InputError(`${v.init}: a model with rule ${quote(m.rule)}; only energy-rule models (csae) are finetuned`);
      if (given.has("factors")) throw new InputError("--factors is for the factored model (--factored)");
      init = m;
      o.hidden = a.H;
      o.activation = a.activation;
      o.output = a.output;
    }
    const show = progressPrinter(v.quiet === true);
    // No pretraining runs: its options are neither checked nor used (said, so that nothing is silent).
    const unused = finetuneOnly ? PRETRAINING.filter((name) => given.has(name)) : [];
    if (unused.length > 0) show.line(`note: ${unused.map((n) => `--${n}`).join(", ")} ${unused.length > 1 ? "have" : "has"} no effect with --finetune-only (no pretraining runs)`);
    const hooks = {
      onPretrain: (label: string, r: EpochReport) => show.epoch(`[pretrain class ${label}] `, r),
      onFinetune: (r: FinetuneReport) =>
        show.epoch("[finetune] ", r),
    };
    const K = new Set(train.labels).size;
    const shape = { D: X.shape[1], K, N: train.X.shape[0] + (valid?.X.shape[0] ?? 0), B: o.pretrain.batch, finetune: variant !== "reconstruction" };
    const n = await instances(o.workers, K);
    for (const H of hidden) checkMemory({ ...shape, H: finetuneOnly ? o.hidden : H, instances: n, factors: v.factored ? factors : undefined }, freemem());
    const t0 = performance.now();
    const fitOne = async (opts: FitOptions): Promise<Uint8Array> => {
      if (!v.factored) return encodeModel(await fit(e, train.X, train.labels, { ...opts, valid, init, ...hooks }));
      // The factored model is pretrained by denoising (ν = 0.25 unless given).
      const pretrain = { ...opts.pretrain, contractive: 0, denoising: opts.pretrain.denoising || 0.25 };
      return encodeModel(await fit(e, train.X, train.labels, { ...opts, pretrain, valid, factors, ...hooks }));
    };
    let bytes: Uint8Array;
    if (selection) {
      const { model, best } = await selectCsae(e, train, valid!, { hidden, lr: lrs, weightDecay: decays }, { ...o, ...hooks }, (r) =>
        show.line(`hidden ${r.hidden}, lr ${r.lr}, weight decay ${r.weightDecay}: validation error ${(100 * r.validError).toFixed(2)}%`),
      );
      show.line(`best: hidden ${best.hidden}, lr ${best.lr}, weight decay ${best.weightDecay}; refitted on training + validation rows`);
      bytes = encodeCsae(model);
    } else {
      bytes = await fitOne(o);
    }
    writeAtomic(save, bytes);
    show.line(`saved ${save} (${clock(performance.now() - t0)})`);
  },
};

commands.predict = {
  summary: "predict the class of every input row (or the class probabilities)",
  usage: "--model M.safetensors --input X [--proba] [--output P.(npy|csv)]",
  options: {
    model: { type: "string", required: true, help: "FILE  a classifier (csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows" },
    proba: { type: "boolean", help: "write P(y = i | x), (N, K), instead of labels" },
    output: { type: "string", help: "FILE  .npy or .csv (labels: .csv or .npy of numeric labels); default: stdout" },
    scale: SCALE,
    header: HEADER,
  },
  run(v) {
    if (typeof v.output === "string") checkOutput(v.output, { "--model": v.model as string, "--input": v.input as string });
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.input as string, v);
    checkInput(m.aes[0], X, v.input as string);
    if (typeof v.output === "string" && !v.proba && formatOf(v.output) !== "csv" && !m.classes.every((l) => Number.isFinite(Number(l)))) {
      throw new InputError(`${v.output}: labels ${quote(m.classes)} are not numbers: write .csv`);
    }
    if (v.proba) {
      const p = predictProba(m, X);
      const t = { shape: [X.shape[0], m.aes.length], data: Float32Array.from(p) };
      if (typeof v.output === "string") writeArray(v.output, t);
      else process.stdout.write(encodeCsv(t));
      return;
    }
    const labels = predict(m, X);
    if (typeof v.output === "string") {
      if (formatOf(v.output) === "csv") writeAtomic(v.output, labels.join("\n") + "\n");
      else writeArray(v.output, { shape: [labels.length], data: Float32Array.from(labels, Number) });
    } else {
      process.stdout.write(labels.join("\n") + "\n");
    }
  },
};

commands.evaluate = {
  summary: "error rate and confusion matrix of a classifier on labelled rows",
  usage: "--model M.safetensors --data X --labels L",
  options: {
    model: { type: "string", required: true, help: "FILE  a classifier (csae or factored-csae)" },
    data: { type: "string", required: true, help: "FILE  rows" },
    labels: { type: "string", required: true, help: "FILE  their labels" },
    scale: SCALE,
    header: HEADER,
  },
  run(v) {
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.data as string, v);
    const labels = readLabels(v.labels as string, X.shape[0], v);
    checkInput(m.aes[0], X, v.data as string);
    const y = classIndices(labels, m.classes, v.labels as string);
    const K = m.classes.length;
    const pred = argmaxRows(scores(m, X), K);
    const confusion = new Int32Array(K * K);
    let wrong = 0;
    pred.forEach((p, n) => {
      confusion[y[n] * K + p]++;
      if (p !== y[n]) wrong++;
    });
    console.log(`error rate: ${((100 * wrong) / y.length).toFixed(2)}% (${wrong} of ${y.length})`);
    console.log("confusion matrix (rows: true class, columns: predicted):");
    const w = Math.max(5, ...m.classes.map((c) => c.length + 1), String(y.length).length + 1);
    console.log(" ".repeat(w) + m.classes.map((c) => c.padStart(w)).join(""));
    for (let i = 0; i < K; i++) {
      console.log(m.classes[i].padStart(w) + Array.from(confusion.subarray(i * K, (i + 1) * K), (c) => String(c).padStart(w)).join(""));
    }
  },
};

commands.datasets = {
  summary: "generate the paper's benchmark data sets (seeded, bit-reproducible) as IDX + recipe JSON + sample mosaic",
  usage: `generate <${DATASETS.join("|")}|all> --output DIR [--seed N]`,
  options: {
    output: { type: "string", required: true, help: "DIR  where the files go" },
    seed: { type: "string", default: "0", help: "N" },
    scale: { type: "string", default: "1", help: "fraction of the original sizes, in (0, 1] (for a quick look)" },
    quiet: QUIET,
  },
  positionals: true,
  run(v, positionals) {
    if (positionals[0] !== "generate" || positionals.length !== 2) throw new InputError(`usage: aescore datasets generate <${DATASETS.join("|")}|all> --output DIR`);
    const name = positionals[1];
    if (name !== "all" && !(DATASETS as readonly string[]).includes(name)) {
      const s = suggest(name, [...DATASETS, "all"]);
      throw new InputError(`unknown data set ${quote(name)}${s ? `; did you mean ${s}?` : ""} (${DATASETS.join(", ")}, all)`);
    }
    const seed = seedOf(v);
    const scale = real(v, "scale", 0, 1, false, true);
    makeDir(v.output as string, "output directory");
    const names = name === "all" ? [...DATASETS] : [name];
    const show = progressPrinter(v.quiet === true);
    for (const name of names) {
      const t0 = performance.now();
      const set = generate(name, { seed, scale });
      const files = writeDataset(set, v.output as string);
      show.line(`${name}: ${set.train.y.length} / ${set.valid.y.length} / ${set.test.y.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${files.length} files (${files.find((f) => f.endsWith(".png"))})`);
    }
  },
};

commands.reproduce = {
  summary: "reproduce one of the paper's experiments into results/ (resumable)",
  usage: `<${Object.keys(EXPERIMENTS).join("|")}> [--quick] [--results DIR]`,
  options: {
    quick: { type: "boolean", help: "the reduced configuration (minutes instead of hours)" },
    results: { type: "string", default: "results", help: "DIR  reports, figures and the cache of finished configurations (--quick: DIR/quick)" },
    seed: { type: "string", default: "1", help: "N" },
    workers: { type: "string", help: "N  worker threads (default: one per core)" },
    quiet: QUIET,
  },
  positionals: true,
  async run(v, positionals) {
    if (positionals.length !== 1) throw new InputError(`name one experiment (${Object.keys(EXPERIMENTS).join(", ")})`);
    const name = positionals[0];
    if (!(name in EXPERIMENTS)) {
      const s = suggest(name, Object.keys(EXPERIMENTS));
      throw new InputError(`unknown experiment ${quote(name)}${s ? `; did you mean ${s}?` : ""} (${Object.keys(EXPERIMENTS).join(", ")})`);
    }
    if (v.quick === true && !EXPERIMENTS[name].quick) throw new InputError(`${name} has no quick configuration (it is short already): drop --quick`);
    const seed = seedOf(v);
    const workers = workersOf(v);
    // --quick reports go beside the full ones, not over them.
    const dir = v.quick === true ? join(v.results as string, "quick") : (v.results as string);
    makeDir(dir, "results directory");
    const show = progressPrinter(v.quiet === true);
    await reproduce(name, {
      quick: v.quick === true,
      dir,
      seed,
      workers,
      log: (text) => show.line(text),
      command: `aescore reproduce ${name}${v.quick ? " --quick" : ""}${v.seed !== "1" ? ` --seed ${v.seed}` : ""}`,
    });
  },
};

commands.figure = {
  summary: "draw one of the paper's figures: energy-surface (Fig. 2)",
  usage: "energy-surface --output DIR [--seed N] [--epochs N]",
  options: {
    output: { type: "string", required: true, help: "DIR  where the PNG files go" },
    seed: { type: "string", default: String(SURFACE_DEFAULTS.seed), help: "N" },
    epochs: { type: "string", default: String(SURFACE_DEFAULTS.epochs), help: "N  training epochs" },
    quiet: QUIET,
  },
  positionals: true,
  async run(v, positionals) {
    if (positionals.length !== 1 || positionals[0] !== "energy-surface") {
      throw new InputError(`name one figure: energy-surface (got ${positionals.map((p) => quote(p)).join(" ") || "none"})`);
    }
    const seed = seedOf(v);
    const epochs = int(v, "epochs", 1);
    makeDir(v.output as string, "output directory");
    const show = progressPrinter(v.quiet === true);
    const { files } = await energySurface(v.output as string, {
      seed,
      epochs,
      onEpoch: (r) => (r.epoch % 500 === 0 || r.epoch === r.epochs ? show.epoch("", r) : undefined),
    });
    show.line(`wrote ${files.join(", ")}`);
  },
};

/** Adds a command (the modules that implement them register here). */
export function registerCommand(name: string, c: Command): void {
  commands[name] = c;
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    "aescore: potential energies of autoencoders, and classifiers made of them",
    "",
    "usage: aescore <command> [options]   (aescore <command> --help for its options)",
    "",
    "commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

// Errors Node raises for files and memory, said in words (anything else is a bug: one line, and the
// trace only when AESCORE_DEBUG is set).
function describeUnexpected(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ERR_FS_FILE_TOO_LARGE") return "a file is over the 2 GiB Node reads at once";
  if (e instanceof RangeError && /memory|allocation|Array buffer/i.test(e.message)) return `out of memory (${e.message})`;
  return `internal error: ${e?.message ?? String(err)} (set AESCORE_DEBUG=1 for the trace, and please report it)`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const c = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!c) {
    const s = suggest(name, Object.keys(commands));
    console.error(`aescore: unknown command ${quote(name)}${s ? `; did you mean ${s}?` : ""} (aescore --help lists them)`);
    return 2;
  }
  try {
    const { values, given, positionals } = parseOptions({ ...c.options, help: HELP }, rest, c.positionals === true);
    if (values.help) {
      console.log(helpText(name, c));
      return 0;
    }
    for (const [key, o] of Object.entries(c.options)) {
      if (o.required && values[key] === undefined) throw new InputError(`--${key} is required`);
      if (o.type === "string" && typeof values[key] === "string" && (values[key] as string).length === 0) throw new InputError(`--${key} is empty`);
    }
    await c.run(values, positionals, given);
    return 0;
  } catch (err) {
    if (err instanceof AescoreError) {
      console.error(`aescore ${name}: ${err.message.replace(/\s*\n\s*/g, " ")}`);
      return 2;
    }
    console.error(`aescore ${name}: ${describeUnexpected(err).replace(/\s*\n\s*/g, " ")}`);
    if (process.env.AESCORE_DEBUG) console.error((err as Error)?.stack);
    return 1;
  }
}

// Run when executed (directly or through npm's bin link), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
