// Commands that train: train-ae (autoencoders, one per class or one) and train (the classifier).

import { freemem } from "node:os";
import { InputError, listed, quote, safeText } from "../errors.js";
import { writeAtomic, makeDir } from "../node.js";
import { createEngineSync, fromArray } from "../engine/engine.js";
import { checkInput, checkSpec, checkTrainingRows, type Autoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { TRAIN_DEFAULTS, MAX_BLOCKS, checkTrainOptions, type TrainOptions } from "../train/autoencoder.js";
import { MAX_EPOCHS } from "../train/driver.js";
import type { EpochReport } from "../train/driver.js";
import { trainClasses, type ClassJob, type Params } from "../train/parallel.js";
import { classesOf, rowsWithLabel, fit, selectCsae, FIT_DEFAULTS, VARIANTS, type FitOptions, type Variant } from "../train/fit.js";
import { encodeModel, autoencodersOf, type Model } from "../model/files.js";
import { type Csae } from "../model/csae.js";
import { initialConstants } from "../model/csae.js";
import { checkMemory } from "../train/memory.js";
import { int, real, list, choice } from "./args.js";
import type { Tensor } from "../tensor.js";
import { type Command, SCALE, HEADER, OUTPUT_TYPE, ACTIVATION, TRAINED_ACTIVATIONS, WORKERS, QUIET, loadModel, readRows, readLabels, checkOutput, checkCheckpointDir, splitValid, checkBlocks, clock, progressPrinter, seedOf, workersOf, instances, loadClassifier } from "./common.js";

export const trainAeCommand: Command = {
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
    init: { type: "string", help: "FILE  start from these weights (an autoencoder, or a csae with the same classes; its architecture is taken from the file: --hidden, --activation, --output-type, when given, must agree with it)" },
    save: { type: "string", required: true, help: "FILE  where to write the model (.safetensors, atomically)" },
    checkpoint: { type: "string", help: "DIR  save a checkpoint every epoch" },
    resume: { type: "boolean", help: "continue from the checkpoints in --checkpoint" },
    workers: WORKERS,
    blocks: { type: "string", default: "1", help: "N  the hidden units in N fixed blocks whose shares of the reconstruction are added in order: one autoencoder on up to N workers, the same bits on any number" },
    scale: SCALE,
    header: HEADER,
    quiet: QUIET,
  },
  async run(v, _positionals, given) {
    const dataPath = v.data as string;
    const save = v.save as string;
    const asked = { H: int(v, "hidden", 1), activation: choice(v, "activation", TRAINED_ACTIVATIONS), output: choice(v, "output-type", ["real", "binary"] as const) };
    const o: TrainOptions = {
      epochs: int(v, "epochs", 1, MAX_EPOCHS),
      batch: int(v, "batch", 1),
      lr: real(v, "lr", 0, Infinity, false, true),
      momentum: real(v, "momentum", 0, 1, true),
      weightDecay: real(v, "weight-decay", 0),
      contractive: v.contractive === undefined ? 0 : real(v, "contractive", 0),
      denoising: v.denoising === undefined ? 0 : real(v, "denoising", 0, 1, true),
      renormalize: real(v, "renormalize", 0),
      patience: int(v, "patience", 0),
      blocks: int(v, "blocks", 1, MAX_BLOCKS),
    };
    const validFraction = real(v, "valid-fraction", 0, 1, true);
    if (o.patience > 0 && validFraction === 0) throw new InputError("--patience needs validation rows (--valid-fraction): it counts epochs without a better validation loss");
    const seed = seedOf(v);
    const workers = workersOf(v);
    if (v.resume && !v.checkpoint) throw new InputError("--resume needs --checkpoint DIR");
    if (v.class !== undefined && !v.labels) throw new InputError("--class needs --labels");
    const inputs = { "--data": dataPath, "--labels": v.labels as string | undefined, "--init": v.init as string | undefined };
    const note = checkCheckpointDir(v.checkpoint, { "--save": save, ...inputs }, v.resume === true);
    checkOutput(save, inputs, "model", ".safetensors");
    if (note && v.quiet !== true) console.error(`aescore train-ae: ${safeText(note)}`);
    const e = createEngineSync();
    // --init's architecture where --hidden, --activation, --output-type are not given (as train --finetune-only).
    const start = v.init ? loadModel(e, v.init as string) : undefined;
    const a = start && autoencodersOf(start)[0];
    const spec = {
      D: 0,
      H: a && !given.has("hidden") ? a.H : asked.H,
      activation: a && !given.has("activation") ? a.activation : asked.activation,
      output: a && !given.has("output-type") ? a.output : asked.output,
    };
    const X = readRows(dataPath, v, "train-ae");
    spec.D = X.shape[1];
    checkSpec(spec);
    checkBlocks(o.blocks!, spec.H, "hidden units");
    checkTrainOptions(spec, o);
    checkTrainingRows(checkInput(spec, X, dataPath), dataPath);

    // The jobs: the whole data set, one class, or every class.
    const labels = v.labels ? readLabels(v.labels as string, X.shape[0], v) : undefined;
    const classes = labels ? (v.class !== undefined ? [String(v.class)] : classesOf(labels)) : ["all"];
    if (labels && v.class !== undefined && !labels.includes(String(v.class))) {
      throw new InputError(`class ${quote(v.class)} does not occur in ${v.labels} (classes: ${listed(classesOf(labels))})`);
    }
    const one = classes.length === 1 && (o.blocks ?? 1) > 1; // replicas of one model
    checkMemory({ D: spec.D, H: spec.H, K: classes.length, N: X.shape[0], B: o.batch, instances: await instances(classes.length > 1 || one ? workers : 0, one ? o.blocks! : classes.length), finetune: false, blocks: o.blocks }, freemem());
    const init = start ? initParams(start, v.init as string, classes, spec, labels !== undefined, v.class !== undefined) : undefined;
    // A class's generator is seeded by its position among all the classes, so training one class
    // alone gives the same autoencoder as training it with the others.
    const all = labels ? classesOf(labels) : classes;
    const small: string[] = [];
    const jobs: ClassJob[] = classes.map((label, i) => {
      const rows = labels ? rowsWithLabel(X, labels, label) : X;
      const { train, valid } = splitValid(rows, validFraction);
      if (train.shape[0] === 0) throw new InputError(`class ${label} has no training rows`);
      // Validation asked for and none given (⌊f·N⌋ = 0 rows) would train without it, unsaid: a class
      // too small for it is said to train without (a note), data where no class gets any is refused.
      if (validFraction > 0 && !valid) small.push(`${labels ? `class ${quote(label)}` : "the data"} (${rows.shape[0]} row${rows.shape[0] === 1 ? "" : "s"})`);
      return { index: all.indexOf(label), label, data: train, valid, init: init?.[i] };
    });
    if (small.length === classes.length) throw new InputError(`--valid-fraction ${validFraction} leaves ${small.length > 1 ? "every class" : small[0]} no validation rows${small.length > 1 ? ` (the largest: ${Math.max(...jobs.map((j) => j.data.shape[0]))} rows)` : ""}: ${Math.max(...jobs.map((j) => j.data.shape[0])) === 1 ? "one row cannot be split, give none" : "give a larger fraction, or none"}`);
    if (small.length > 0 && v.quiet !== true) console.error(`aescore train-ae: note: --valid-fraction ${validFraction} leaves ${small.slice(0, 5).join(", ")}${small.length > 5 ? `, … (${small.length} classes)` : ""} no validation rows: ${small.length > 1 ? "they train" : "it trains"} without validation`);
    if (v.checkpoint) makeDir(v.checkpoint as string, "checkpoint directory");

    const show = progressPrinter(v.quiet === true);
    const many = jobs.length > 1;
    const t0 = performance.now();
    const results = await trainClasses(spec, o, jobs, {
      workers: many || (o.blocks ?? 1) > 1 ? workers : 0,
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
      writeAtomic(save, encodeModel({ kind: "autoencoder", ae: aes[0] }));
    } else {
      // The constants a classifier starts finetuning from (docs/math.md §7.4).
      writeAtomic(save, encodeModel({ kind: "csae", csae: { classes, aes, C: initialConstants(aes, jobs.map((j) => j.data)) } }));
    }
    show.line(`saved ${save} (${clock(performance.now() - t0)})`);
  },
};

/** --init weights for each class: one autoencoder for all, or a csae with the same classes. */
function initParams(m: Model, path: string, classes: string[], spec: AutoencoderSpec, labelled: boolean, single: boolean): Params[] {
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
  if (!labelled) throw new InputError(`${path}: a classifier's autoencoders are one per class: give --labels (and --class c for one of them), or start from an autoencoder file`);
  // A classifier saved from part of its classes would lose the others without a word.
  const missing = single ? [] : known.filter((c) => !classes.includes(c));
  if (missing.length > 0) throw new InputError(`${path}: has class${missing.length > 1 ? "es" : ""} ${listed(missing)} that the labels do not: the classifier saved would lose ${missing.length > 1 ? "them" : "it"} (give labels of every class, or --class c to retrain one)`);
  return classes.map((c) => {
    const i = known.indexOf(c);
    if (i < 0) throw new InputError(`${path}: has no class ${quote(c)} (it has ${listed(known)})`);
    return params(aes[i]);
  });
}


const ARCHITECTURE = ["hidden", "activation", "output-type", "factored"] as const;
const PRETRAINING = ["contractive", "denoising", "pretrain-epochs", "pretrain-lr", "blocks"] as const;
/** The options only finetuning reads (the reconstruction variant runs none). */
const FINETUNING = ["epochs", "lr", "weight-decay", "patience", "lr-decay"] as const;

export const trainCommand: Command = {
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
    denoising: { type: "string", help: "ν  pretraining corruption level (--factored: 0.25 unless given)" },
    variant: { type: "string", default: FIT_DEFAULTS.variant, help: VARIANTS.join("|") },
    factored: { type: "boolean", help: "the factored CSAE (shared Wx, Wh; per-class Wf, Bh, Br), pretrained by denoising" },
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
    checkpoint: { type: "string", help: "DIR  save checkpoints of pretraining and finetuning every epoch" },
    resume: { type: "boolean", help: "continue from the checkpoints in --checkpoint (the same bits as a run never stopped)" },
    blocks: { type: "string", default: "1", help: "N  pretraining adds each minibatch's gradient from N fixed row blocks: the factored model (one model) on up to N workers, the same bits on any number (the plain CSAE: each class's hidden units in N blocks)" },
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
      if (variant === "reconstruction") throw new InputError("--variant reconstruction trains nothing after pretraining: with --finetune-only there is nothing to do");
    }
    // With --finetune-only no pretraining runs: its options are not read (a note says they are unused).
    const denoising = finetuneOnly || v.denoising === undefined ? 0 : real(v, "denoising", 0, 1, true);
    const o: FitOptions = {
      ...FIT_DEFAULTS,
      hidden: hidden[0],
      activation: choice(v, "activation", TRAINED_ACTIVATIONS),
      output: choice(v, "output-type", ["real", "binary"] as const),
      variant,
      seed: seedOf(v),
      workers: workersOf(v),
      pretrain: finetuneOnly ? { ...FIT_DEFAULTS.pretrain } : {
        ...FIT_DEFAULTS.pretrain,
        epochs: int(v, "pretrain-epochs", 1, MAX_EPOCHS),
        lr: real(v, "pretrain-lr", 0, Infinity, false, true),
        batch: int(v, "batch", 1),
        momentum: real(v, "momentum", 0, 1, true),
        contractive: v.contractive !== undefined ? real(v, "contractive", 0) : denoising > 0 || v.factored ? 0 : FIT_DEFAULTS.pretrain.contractive,
        denoising,
        blocks: int(v, "blocks", 1, MAX_BLOCKS),
      },
      finetune: {
        ...FIT_DEFAULTS.finetune,
        epochs: int(v, "epochs", 1, MAX_EPOCHS),
        lr: lrs[0],
        weightDecay: decays[0],
        batch: int(v, "batch", 1),
        momentum: real(v, "momentum", 0, 1, true),
        patience: int(v, "patience", 0),
        decay: real(v, "lr-decay", 0),
      },
    };
    if (v.resume && !v.checkpoint) throw new InputError("--resume needs --checkpoint DIR");
    if (v.checkpoint && (hidden.length > 1 || lrs.length > 1 || decays.length > 1)) throw new InputError("--checkpoint is for one fit, not model selection (lists of --hidden, --lr or --weight-decay)");
    const factors = int(v, "factors", 1);
    if (!v.factored && given.has("factors")) throw new InputError("--factors is for the factored model (--factored)");
    if (v.factored && given.has("contractive")) throw new InputError("the factored model is pretrained by denoising (--denoising ν), not with the contractive penalty");
    if (!finetuneOnly) checkBlocks(o.pretrain.blocks!, v.factored ? o.pretrain.batch : Math.min(...hidden), v.factored ? "rows of a minibatch, --batch" : "hidden units");
    const selection = hidden.length > 1 || lrs.length > 1 || decays.length > 1;
    if (selection && v.factored) throw new InputError("model selection (lists of --hidden, --lr or --weight-decay) is for the plain CSAE");
    if (!v.valid && v["valid-labels"]) throw new InputError("--valid-labels needs --valid");
    if (v.valid && !v["valid-labels"]) throw new InputError("--valid needs --valid-labels");
    if (v.valid && given.has("valid-fraction")) throw new InputError("give --valid with --valid-labels, or --valid-fraction, not both");
    const validFraction = real(v, "valid-fraction", 0, 1, true);
    if (o.finetune.patience > 0 && !v.valid && validFraction === 0) throw new InputError("--patience needs validation data (--valid with --valid-labels, or --valid-fraction): it counts epochs without a lower validation error");
    const inputs = {
      "--data": v.data as string, "--labels": v.labels as string, "--valid": v.valid as string | undefined,
      "--valid-labels": v["valid-labels"] as string | undefined, "--init": v.init as string | undefined,
    };
    const note = checkCheckpointDir(v.checkpoint, { "--save": save, ...inputs }, v.resume === true);
    checkOutput(save, inputs, "model", ".safetensors");
    if (note && v.quiet !== true) console.error(`aescore train: ${safeText(note)}`);

    const X = readRows(v.data as string, v, "train");
    const labels = readLabels(v.labels as string, X.shape[0], v);
    let train = { X, labels };
    let valid: { X: Tensor; labels: string[] } | undefined;
    if (v.valid) {
      const VX = readRows(v.valid as string, v, "train");
      if (VX.shape[1] !== X.shape[1]) throw new InputError(`${v.valid}: ${VX.shape[1]} columns, the training data ${v.data} ${X.shape[1]}`);
      valid = { X: VX, labels: readLabels(v["valid-labels"] as string, VX.shape[0], v) };
    } else {
      const { train: t, valid: vx } = splitValid(X, validFraction);
      if (validFraction > 0 && !vx) throw new InputError(`--valid-fraction ${validFraction} leaves no validation rows (${X.shape[0]} row${X.shape[0] === 1 ? "" : "s"}): ${X.shape[0] === 1 ? "one row cannot be split, give none" : "give a larger fraction, or none"}`);
      if (vx) {
        train = { X: t, labels: labels.slice(0, t.shape[0]) };
        valid = { X: vx, labels: labels.slice(t.shape[0]) };
        // (the last rows held out: a class found only there would be "missing" with no reason given)
        const kept = new Set(train.labels);
        const gone = valid.labels.find((l) => !kept.has(l));
        if (gone !== undefined) throw new InputError(`--valid-fraction ${validFraction} holds out the last ${vx.shape[0]} rows, which take every row of class ${quote(gone)}: shuffle the rows, or give --valid with --valid-labels`);
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
        hidden: String(a.H), activation: a.activation, "output-type": a.output, factored: String(m.factored === true),
      };
      for (const name of ARCHITECTURE) {
        if (!given.has(name)) continue;
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
    const why = finetuneOnly ? "--finetune-only (no pretraining runs)" : variant === "no-pretraining" ? "--variant no-pretraining (no pretraining runs)" : variant === "reconstruction" ? "--variant reconstruction (no finetuning runs)" : "";
    const unused = (variant === "reconstruction" ? FINETUNING : finetuneOnly || variant === "no-pretraining" ? PRETRAINING : []).filter((name) => given.has(name));
    if (unused.length > 0 && v.quiet !== true) console.error(`aescore train: note: ${unused.map((n) => `--${n}`).join(", ")} ${unused.length > 1 ? "have" : "has"} no effect with ${why}`);
    // The finetuning epoch kept (the first with the lowest validation error, as the driver keeps it)
    // and where a patience stop came, said at the end: only when every epoch was seen here (a
    // resumed run's earlier epochs were not).
    let seen: { first: number; last: number; best?: { epoch: number; valid: number } } | undefined;
    const hooks = {
      onPretrain: (label: string, r: EpochReport) => show.epoch(`[pretrain class ${label}] `, r),
      onFinetune: (r: EpochReport) => {
        seen ??= { first: r.epoch, last: r.epoch };
        seen.last = r.epoch;
        if (typeof r.valid === "number" && (!seen.best || r.valid < seen.best.valid)) seen.best = { epoch: r.epoch, valid: r.valid };
        show.epoch("[finetune] ", r);
      },
    };
    const K = new Set(train.labels).size;
    const shape = { D: X.shape[1], K, N: train.X.shape[0] + (valid?.X.shape[0] ?? 0), B: o.pretrain.batch, finetune: variant !== "reconstruction" };
    const n = await instances(o.workers, K);
    for (const H of hidden) checkMemory({ ...shape, H: finetuneOnly ? o.hidden : H, instances: v.factored ? await instances(o.workers, o.pretrain.blocks ?? 1) : n, factors: v.factored ? factors : undefined, blocks: o.pretrain.blocks }, freemem());
    const checkpoint = typeof v.checkpoint === "string" ? { dir: v.checkpoint, resume: v.resume === true } : undefined;
    if (checkpoint) makeDir(checkpoint.dir, "checkpoint directory");
    const t0 = performance.now();
    const fitOne = async (opts: FitOptions): Promise<Uint8Array> => {
      if (!v.factored) return encodeModel(await fit(e, train.X, train.labels, { ...opts, valid, init, checkpoint, ...hooks }));
      // The factored model is pretrained by denoising (ν = 0.25 unless given).
      const pretrain = { ...opts.pretrain, contractive: 0, denoising: opts.pretrain.denoising || 0.25 };
      return encodeModel(await fit(e, train.X, train.labels, { ...opts, pretrain, valid, factors, checkpoint, ...hooks }));
    };
    let bytes: Uint8Array;
    if (selection) {
      const { model, best } = await selectCsae(e, train, valid!, { hidden, lr: lrs, weightDecay: decays }, { ...o, ...hooks }, (r) =>
        show.line(`hidden ${r.hidden}, lr ${r.lr}, weight decay ${r.weightDecay}: validation error ${(100 * r.validError).toFixed(2)}%`),
      );
      show.line(`best: hidden ${best.hidden}, lr ${best.lr}, weight decay ${best.weightDecay}; refitted on training + validation rows`);
      bytes = encodeModel({ kind: "csae", csae: model });
    } else {
      bytes = await fitOne(o);
      if (seen?.first === 1 && seen.best) {
        const stopped = seen.last < o.finetune.epochs ? `; stopped after epoch ${seen.last} of ${o.finetune.epochs}, no better validation error for ${o.finetune.patience} epochs` : "";
        show.line(`finetuning kept epoch ${seen.best.epoch} (validation error ${(100 * seen.best.valid).toFixed(2)}%)${stopped}`);
      }
    }
    writeAtomic(save, bytes);
    show.line(`saved ${save} (${clock(performance.now() - t0)})`);
  },
};

