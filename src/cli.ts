#!/usr/bin/env node
// The `aescore` command line. Each command declares its options once; --help is built from them.

import { parseArgs } from "node:util";
import { realpathSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { AescoreError, InputError } from "./errors.js";
import { decodeSafetensors } from "./safetensors.js";
import { readBytes, readArray, writeArray, writeAtomic, formatOf } from "./node.js";
import { createEngineSync, fromArray, type Engine } from "./engine.js";
import {
  checkInput, checkSpec, decodeAutoencoder, encodeAutoencoder, type Autoencoder, type AutoencoderSpec, type AeActivation, type Output,
} from "./autoencoder.js";
import { TRAIN_DEFAULTS, checkTrainOptions, type EpochReport, type TrainOptions } from "./training.js";
import { trainClasses, type ClassJob, type Params } from "./parallel.js";
import { energySurface, SURFACE_DEFAULTS } from "./figures.js";
import { classesOf, rowsWithLabel, classIndices, fitCsae, selectCsae, FIT_DEFAULTS, VARIANTS, type FitOptions, type Variant } from "./fit.js";
import { fitFactored, encodeFactored } from "./factored.js";
import { predict, predictProba, scores, argmaxRows, type Csae } from "./csae.js";
import type { FinetuneReport } from "./finetune.js";
import { EXPERIMENTS, reproduce } from "./reproduce.js";
import { DATASETS, generate, writeDataset } from "./datasets.js";
import { energy, reconstruct, field, laplacian, hidden } from "./energy.js";
import { decodeCsae, encodeCsae, initialConstants } from "./csae.js";
import { decodeFactored, factoredAsCsae } from "./factored.js";
import { encodeCsv } from "./data.js";
import type { Tensor } from "./safetensors.js";

interface Option {
  type: "string" | "boolean";
  /** Checked before the command runs: a one-line error names it. */
  required?: boolean;
  short?: string;
  default?: string | boolean;
  /** Shown in --help, e.g. "FILE  the model (.safetensors)". */
  help: string;
}

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, Option>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void> | void;
}

const HELP: Option = { type: "boolean", short: "h", help: "show this help" };

function helpText(name: string, c: Command): string {
  const lines = [`aescore ${name}: ${c.summary}`, "", `usage: aescore ${name} ${c.usage}`, "", "options:"];
  for (const [key, o] of Object.entries({ ...c.options, help: HELP })) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${key}`;
    const def = o.required ? " (required)" : o.default !== undefined && o.default !== false ? ` (default ${o.default})` : "";
    lines.push(`  ${flag.padEnd(22)} ${o.help}${def}`);
  }
  return lines.join("\n");
}

const commands: Record<string, Command> = {
  info: {
    summary: "describe a model file: kind, activation, tensors and shapes",
    usage: "MODEL.safetensors",
    options: {},
    run(_values, positionals) {
      if (positionals.length !== 1) throw new InputError("info: give exactly one model file");
      const path = positionals[0];
      const { tensors, metadata } = decodeSafetensors(readBytes(path), path);
      console.log(path);
      for (const [k, v] of Object.entries(metadata)) console.log(`  ${k}: ${v}`);
      for (const [name, t] of Object.entries(tensors)) console.log(`  tensor ${name} [${t.shape.join(", ")}]`);
    },
  },
};

/** Any model file: its kind and autoencoders, and for csae and factored-csae the classifier. */
export function loadModel(e: Engine, path: string): { kind: string; aes: Autoencoder[]; classifier?: Csae } {
  const bytes = readBytes(path);
  const kind = decodeSafetensors(bytes, path).metadata.kind;
  if (kind === "autoencoder") return { kind, aes: [decodeAutoencoder(e, bytes, path)] };
  let classifier: Csae;
  if (kind === "csae") classifier = decodeCsae(e, bytes, path);
  else if (kind === "factored-csae") classifier = factoredAsCsae(decodeFactored(e, bytes, path));
  else throw new InputError(`${path}: unknown model kind ${JSON.stringify(kind)} (autoencoder, csae, factored-csae)`);
  return { kind, aes: classifier.aes, classifier };
}

/**
 * Reads an input array as (N, D) rows: trailing dimensions are flattened (28x28 images become 784);
 * u8 data (IDX pixels, |u1 .npy) is divided by 255 unless scale is "none".
 */
export function readRows(path: string, scale: string): Tensor {
  if (scale !== "auto" && scale !== "none") throw new InputError(`--scale must be auto or none, not ${JSON.stringify(scale)}`);
  const t = readArray(path);
  const N = t.shape.length <= 1 ? 1 : t.shape[0];
  const D = t.shape.length <= 1 ? t.data.length : t.data.length / N;
  if (scale === "auto" && (t.dtype === "u8" || t.dtype === "|u1")) for (let i = 0; i < t.data.length; i++) t.data[i] /= 255;
  return { shape: [N, D], data: t.data };
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

commands.energy = {
  summary: "energies (or reconstruction, field, Laplacian, hidden units) of a model for every input row",
  usage: "--model M.safetensors --input X.(npy|csv|idx) [--output OUT.(npy|csv)] [--what energy]",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows: .npy (f32, f64, u8), .csv, IDX (optionally .gz)" },
    output: { type: "string", help: "FILE  where to write the result (.npy or .csv); default: CSV on stdout" },
    what: { type: "string", default: "energy", help: `${WHAT.join("|")}` },
    scale: { type: "string", default: "auto", help: "auto: u8 input is divided by 255; none: used as is" },
  },
  run(values) {
    const { model, input, output, what, scale } = values as Record<string, string>;
    if (!WHAT.includes(what as (typeof WHAT)[number])) throw new InputError(`energy: --what must be one of ${WHAT.join(", ")}, not ${JSON.stringify(what)}`);
    const e = createEngineSync();
    const { aes } = loadModel(e, model);
    const X = readRows(input, scale ?? "auto");
    checkInput(aes[0], X, input); // before any work, naming the file
    const one = (ae: Autoencoder): Tensor => {
      const N = X.shape[0];
      if (what === "energy") return { shape: [N], data: energy(ae, X) };
      if (what === "laplacian") return { shape: [N], data: laplacian(ae, X) };
      return (what === "reconstruction" ? reconstruct : what === "field" ? field : hidden)(ae, X);
    };
    const result = stack(aes.map(one));
    if (output) writeArray(output, result);
    else process.stdout.write(encodeCsv(result));
  },
};

// ---- training ---------------------------------------------------------------------------------

/** A numeric option: a clear error for anything that is not a finite number (or integer). */
function num(values: Record<string, unknown>, name: string, integer = false): number {
  const v = values[name];
  const x = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new InputError(`--${name} must be ${integer ? "an integer" : "a number"}, not ${JSON.stringify(v)}`);
  }
  return x;
}

/** Labels as strings, one per row: a 1-D array (or N x 1) from .npy, IDX or CSV. */
export function readLabels(path: string, N: number): string[] {
  const t = readArray(path);
  if (t.data.length !== N) throw new InputError(`${path}: ${t.data.length} labels for ${N} data rows`);
  return Array.from(t.data, (v) => String(v));
}

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

commands["train-ae"] = {
  summary: "train autoencoders (contractive or denoising): one, one class's, or one per class",
  usage: "--data X [--labels L [--class c]] --hidden 500 --activation sigmoid --output real|binary (--contractive λ | --denoising ν) --save M.safetensors",
  options: {
    data: { type: "string", required: true, help: "FILE  training rows (.npy, .csv, IDX; u8 scaled by 1/255 unless --scale none)" },
    labels: { type: "string", help: "FILE  one label per row: trains one autoencoder per class and saves a csae model" },
    class: { type: "string", help: "LABEL  train only on the rows of this class (saves one autoencoder)" },
    hidden: { type: "string", default: "500", help: "N  hidden units" },
    activation: { type: "string", default: "sigmoid", help: "sigmoid|tanh|linear|square|relu|modulus|softplus|sync" },
    output: { type: "string", default: "real", help: "real|binary" },
    contractive: { type: "string", help: "λ  contractive penalty weight" },
    denoising: { type: "string", help: "ν  corruption level (each input zeroed with probability ν)" },
    epochs: { type: "string", default: String(TRAIN_DEFAULTS.epochs), help: "N" },
    batch: { type: "string", default: String(TRAIN_DEFAULTS.batch), help: "N  minibatch rows" },
    lr: { type: "string", default: String(TRAIN_DEFAULTS.lr), help: "learning rate" },
    momentum: { type: "string", default: String(TRAIN_DEFAULTS.momentum), help: "momentum" },
    "weight-decay": { type: "string", default: "0", help: "L2 weight decay on W" },
    renormalize: { type: "string", default: "0", help: "after each step, rescale every filter to this norm (0: off)" },
    "valid-fraction": { type: "string", default: "0", help: "hold out the last fraction of each class's rows for validation (best epoch kept)" },
    patience: { type: "string", default: "0", help: "stop after N epochs without a better validation loss (0: never)" },
    seed: { type: "string", default: "0", help: "seed of the generator (initialization, shuffling, corruption)" },
    init: { type: "string", help: "FILE  start from these weights (an autoencoder, or a csae with the same classes)" },
    save: { type: "string", required: true, help: "FILE  where to write the model (.safetensors, atomically)" },
    checkpoint: { type: "string", help: "DIR  save a checkpoint every epoch" },
    resume: { type: "boolean", help: "continue from the checkpoints in --checkpoint" },
    workers: { type: "string", help: "N  worker threads (default: one per core; 0: this thread)" },
    scale: { type: "string", default: "auto", help: "auto|none (u8 input divided by 255 or not)" },
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  async run(values) {
    const v = values as Record<string, string | boolean | undefined>;
    const dataPath = v.data as string;
    const save = v.save as string;
    const spec = { D: 0, H: num(v, "hidden", true), activation: v.activation as AeActivation, output: v.output as Output };
    const o: TrainOptions = {
      epochs: num(v, "epochs", true),
      batch: num(v, "batch", true),
      lr: num(v, "lr"),
      momentum: num(v, "momentum"),
      weightDecay: num(v, "weight-decay"),
      contractive: v.contractive === undefined ? 0 : num(v, "contractive"),
      denoising: v.denoising === undefined ? 0 : num(v, "denoising"),
      renormalize: num(v, "renormalize"),
      patience: num(v, "patience", true),
    };
    const validFraction = num(v, "valid-fraction");
    if (!(validFraction >= 0 && validFraction < 1)) throw new InputError(`--valid-fraction must be in [0, 1), not ${validFraction}`);
    const seed = num(v, "seed", true);
    const workers = v.workers === undefined ? undefined : num(v, "workers", true);
    if (v.resume && !v.checkpoint) throw new InputError("train-ae: --resume needs --checkpoint DIR");
    if (v.class !== undefined && !v.labels) throw new InputError("train-ae: --class needs --labels");
    const X = readRows(dataPath, String(v.scale));
    spec.D = X.shape[1];
    checkSpec(spec);
    checkTrainOptions(spec, o);
    checkInput(spec, X, dataPath);

    // The jobs: the whole data set, one class, or every class.
    const labels = v.labels ? readLabels(v.labels as string, X.shape[0]) : undefined;
    const classes = labels ? (v.class !== undefined ? [String(v.class)] : classesOf(labels)) : ["all"];
    if (labels && v.class !== undefined && !labels.includes(String(v.class))) {
      throw new InputError(`train-ae: class ${JSON.stringify(v.class)} does not occur in ${v.labels} (classes: ${classesOf(labels).join(", ")})`);
    }
    const e = createEngineSync();
    const init = v.init ? initParams(e, v.init as string, classes, spec) : undefined;
    // A class's generator is seeded by its position among all the classes, so training one class
    // alone gives the same autoencoder as training it with the others.
    const all = labels ? classesOf(labels) : classes;
    const jobs: ClassJob[] = classes.map((label, i) => {
      const rows = labels ? rowsWithLabel(X, labels, label) : X;
      const { train, valid } = splitValid(rows, validFraction);
      if (train.shape[0] === 0) throw new InputError(`train-ae: class ${label} has no training rows`);
      return { index: all.indexOf(label), label, data: train, valid, init: init?.[i] };
    });
    if (v.checkpoint) mkdirSync(v.checkpoint as string, { recursive: true });

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
      show.line(`${many ? `class ${classes[i]}: ` : ""}${r.history.length} epochs, loss ${last?.loss.toPrecision(5)}${r.bestEpoch ? `, best validation epoch ${r.bestEpoch}` : ""}`);
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
      // The constants a classifier starts finetuning from (SPEC.md §8).
      writeAtomic(save, encodeCsae({ classes, aes, C: initialConstants(aes, jobs.map((j) => j.data)) }));
    }
    show.line(`saved ${save} (${clock(performance.now() - t0)})`);
  },
};

/** --init weights for each class: one autoencoder for all, or a csae with the same classes. */
function initParams(e: Engine, path: string, classes: string[], spec: AutoencoderSpec): Params[] {
  const m = loadModel(e, path);
  const fits = m.aes.every((ae) => ae.D === spec.D && ae.H === spec.H);
  if (!fits) throw new InputError(`${path}: its autoencoders are ${m.aes[0].H}x${m.aes[0].D}, not ${spec.H}x${spec.D} (--hidden x data columns)`);
  const params = (ae: Autoencoder): Params => ({ W: ae.W.data.slice(), bh: ae.bh.data.slice(), br: ae.br.data.slice() });
  if (m.kind === "autoencoder") return classes.map(() => params(m.aes[0]));
  return classes.map((c) => {
    const i = m.classifier!.classes.indexOf(c);
    if (i < 0) throw new InputError(`${path}: has no class ${JSON.stringify(c)} (it has ${m.classifier!.classes.join(", ")})`);
    return params(m.aes[i]);
  });
}

// ---- the classifier ----------------------------------------------------------------------------

/** A comma-separated list of numbers (for model selection grids). */
function nums(values: Record<string, unknown>, name: string, integer = false): number[] {
  return String(values[name]).split(",").map((part) => num({ [name]: part }, name, integer));
}

/** A classifier model file (csae or factored-csae) as K autoencoders with C. */
function loadClassifier(e: Engine, path: string): Csae {
  const { kind, classifier } = loadModel(e, path);
  if (!classifier) throw new InputError(`${path}: is a ${JSON.stringify(kind)} model, not a classifier (csae or factored-csae)`);
  return classifier;
}

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
    activation: { type: "string", default: FIT_DEFAULTS.activation, help: "sigmoid|tanh|linear|square|relu|modulus|softplus|sync" },
    output: { type: "string", default: FIT_DEFAULTS.output, help: "real|binary" },
    contractive: { type: "string", help: "λ  pretraining contractive penalty (default 0.5 unless --denoising)" },
    denoising: { type: "string", help: "ν  pretraining corruption level" },
    variant: { type: "string", default: "csae", help: VARIANTS.join("|") },
    factored: { type: "boolean", help: "the factored CSAE (shared Wx, Wh; per-class Wf, Bh, Br)" },
    factors: { type: "string", default: "100", help: "F  factors of the factored model" },
    "pretrain-epochs": { type: "string", default: String(FIT_DEFAULTS.pretrain.epochs), help: "N" },
    "pretrain-lr": { type: "string", default: String(FIT_DEFAULTS.pretrain.lr), help: "pretraining learning rate" },
    epochs: { type: "string", default: String(FIT_DEFAULTS.finetune.epochs), help: "N  finetuning epochs" },
    lr: { type: "string", default: String(FIT_DEFAULTS.finetune.lr), help: "R[,R…]  finetuning learning rate (a list: model selection)" },
    "weight-decay": { type: "string", default: "0", help: "D[,D…]  finetuning weight decay (a list: model selection)" },
    batch: { type: "string", default: "100", help: "N  minibatch rows" },
    momentum: { type: "string", default: "0.9", help: "momentum (pretraining and finetuning)" },
    patience: { type: "string", default: "0", help: "stop finetuning after N epochs without a lower validation error" },
    "lr-decay": { type: "string", default: "0", help: "τ  finetuning epoch t uses lr·τ/(τ+t) (0: constant)" },
    seed: { type: "string", default: "0", help: "N" },
    init: { type: "string", help: "FILE  start from this csae model (same classes)" },
    "finetune-only": { type: "boolean", help: "with --init: no pretraining, finetune the given model" },
    workers: { type: "string", help: "N  worker threads (default: one per core; 0: this thread)" },
    scale: { type: "string", default: "auto", help: "auto|none" },
    save: { type: "string", required: true, help: "FILE  where to write the model (.safetensors, atomically)" },
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  async run(values) {
    const v = values as Record<string, string | boolean | undefined>;
    const save = v.save as string;
    const X = readRows(v.data as string, String(v.scale));
    const labels = readLabels(v.labels as string, X.shape[0]);
    const hidden = nums(v, "hidden", true);
    const lrs = nums(v, "lr");
    const decays = nums(v, "weight-decay");
    const denoising = v.denoising === undefined ? 0 : num(v, "denoising");
    const o: FitOptions = {
      ...FIT_DEFAULTS,
      hidden: hidden[0],
      activation: v.activation as AeActivation,
      output: v.output as Output,
      variant: v.variant as Variant,
      seed: num(v, "seed", true),
      workers: v.workers === undefined ? undefined : num(v, "workers", true),
      pretrain: {
        ...FIT_DEFAULTS.pretrain,
        epochs: num(v, "pretrain-epochs", true),
        lr: num(v, "pretrain-lr"),
        batch: num(v, "batch", true),
        momentum: num(v, "momentum"),
        contractive: v.contractive !== undefined ? num(v, "contractive") : denoising > 0 ? 0 : FIT_DEFAULTS.pretrain.contractive,
        denoising,
      },
      finetune: {
        ...FIT_DEFAULTS.finetune,
        epochs: num(v, "epochs", true),
        lr: lrs[0],
        weightDecay: decays[0],
        batch: num(v, "batch", true),
        momentum: num(v, "momentum"),
        patience: num(v, "patience", true),
        decay: num(v, "lr-decay"),
      },
    };
    let train = { X, labels };
    let valid: { X: Tensor; labels: string[] } | undefined;
    if (v.valid) {
      const VX = readRows(v.valid as string, String(v.scale));
      if (!v["valid-labels"]) throw new InputError("train: --valid needs --valid-labels");
      valid = { X: VX, labels: readLabels(v["valid-labels"] as string, VX.shape[0]) };
    } else {
      const f = num(v, "valid-fraction");
      if (!(f >= 0 && f < 1)) throw new InputError(`--valid-fraction must be in [0, 1), not ${f}`);
      const { train: t, valid: vx } = splitValid(X, f);
      if (vx) {
        train = { X: t, labels: labels.slice(0, t.shape[0]) };
        valid = { X: vx, labels: labels.slice(t.shape[0]) };
      }
    }
    const e = createEngineSync();
    if (v["finetune-only"] && !v.init) throw new InputError("train: --finetune-only needs --init M0.safetensors");
    if (v.init && !v["finetune-only"]) throw new InputError("train: --init is for finetuning a given model: add --finetune-only");
    const init = v.init ? loadClassifier(e, v.init as string) : undefined;
    const show = progressPrinter(v.quiet === true);
    const t0 = performance.now();
    const hooks = {
      onPretrain: (label: string, r: EpochReport) => show.epoch(`[pretrain class ${label}] `, r),
      onFinetune: (r: FinetuneReport) =>
        show.epoch("[finetune] ", { ...r, elapsedMs: 0, valid: r.validError === undefined ? undefined : r.validError }),
    };
    const fitOne = async (opts: FitOptions): Promise<Uint8Array> => {
      if (!v.factored) return encodeCsae(await fitCsae(e, train.X, train.labels, { ...opts, valid, init, ...hooks }));
      // The factored model is pretrained by denoising (ν = 0.25 unless given).
      const pretrain = { ...opts.pretrain, contractive: 0, denoising: opts.pretrain.denoising || 0.25 };
      return encodeFactored(await fitFactored(e, train.X, train.labels, { ...opts, pretrain, valid, factors: num(v, "factors", true), ...hooks }));
    };
    let bytes: Uint8Array;
    if (hidden.length > 1 || lrs.length > 1 || decays.length > 1) {
      if (!valid) throw new InputError("train: model selection (lists of --hidden, --lr or --weight-decay) needs validation data");
      if (v.factored) throw new InputError("train: model selection is for the plain CSAE");
      const { model, best } = await selectCsae(e, train, valid, { hidden, lr: lrs, weightDecay: decays }, { ...o, ...hooks }, (r) =>
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
    scale: { type: "string", default: "auto", help: "auto|none" },
  },
  run(values) {
    const v = values as Record<string, string | boolean | undefined>;
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.input as string, String(v.scale));
    checkInput(m.aes[0], X, v.input as string);
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
      else if (labels.every((l) => Number.isFinite(Number(l)))) writeArray(v.output, { shape: [labels.length], data: Float32Array.from(labels, Number) });
      else throw new InputError(`${v.output}: labels ${JSON.stringify(m.classes)} are not numbers: write .csv`);
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
    scale: { type: "string", default: "auto", help: "auto|none" },
  },
  run(values) {
    const v = values as Record<string, string | boolean | undefined>;
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.data as string, String(v.scale));
    const labels = readLabels(v.labels as string, X.shape[0]);
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
    scale: { type: "string", default: "1", help: "fraction of the original sizes (for a quick look)" },
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  run(values, positionals) {
    const v = values as Record<string, string | boolean | undefined>;
    if (positionals[0] !== "generate" || positionals.length !== 2) throw new InputError(`datasets: usage: aescore datasets generate <${DATASETS.join("|")}|all> --output DIR`);
    const names = positionals[1] === "all" ? [...DATASETS] : [positionals[1]];
    const show = progressPrinter(v.quiet === true);
    for (const name of names) {
      const t0 = performance.now();
      const set = generate(name, { seed: num(v, "seed", true), scale: num(v, "scale") });
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
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  async run(values, positionals) {
    const v = values as Record<string, string | boolean | undefined>;
    if (positionals.length !== 1) throw new InputError(`reproduce: name one experiment (${Object.keys(EXPERIMENTS).join(", ")})`);
    const show = progressPrinter(v.quiet === true);
    await reproduce(positionals[0], {
      quick: v.quick === true,
      // --quick reports go beside the full ones, not over them.
      dir: v.quick === true ? join(v.results as string, "quick") : (v.results as string),
      seed: num(v, "seed", true),
      workers: v.workers === undefined ? undefined : num(v, "workers", true),
      log: (text) => show.line(text),
      command: `aescore reproduce ${positionals[0]}${v.quick ? " --quick" : ""}${v.seed !== "1" ? ` --seed ${v.seed}` : ""}`,
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
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  run(values, positionals) {
    const v = values as Record<string, string | boolean | undefined>;
    if (positionals.length !== 1 || positionals[0] !== "energy-surface") {
      throw new InputError(`figure: name one figure: energy-surface (got ${positionals.join(" ") || "none"})`);
    }
    const show = progressPrinter(v.quiet === true);
    const { files } = energySurface(v.output as string, {
      seed: num(v, "seed", true),
      epochs: num(v, "epochs", true),
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

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const c = commands[name];
  if (!c) {
    console.error(`aescore: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const options = Object.fromEntries(
      Object.entries({ ...c.options, help: HELP }).map(([k, { type, short, default: d }]) => [
        k,
        { type, ...(short === undefined ? {} : { short }), ...(d === undefined ? {} : { default: d }) },
      ]),
    );
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    if (values.help) {
      console.log(helpText(name, c));
      return 0;
    }
    for (const [key, o] of Object.entries(c.options)) {
      if (o.required && values[key] === undefined) throw new InputError(`${name}: --${key} is required`);
    }
    await c.run(values, positionals);
    return 0;
  } catch (err) {
    const known = err instanceof AescoreError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (!known) throw err;
    console.error(`aescore ${name}: ${(err as Error).message}`);
    return 2;
  }
}

// Run when executed (directly or through npm's bin link), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
