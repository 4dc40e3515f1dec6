// Commands that reproduce the paper: datasets, reproduce, figure.

import { join } from "node:path";
import { InputError, quote } from "../errors.js";
import { makeDir } from "../node.js";
import { energySurface, SURFACE_DEFAULTS } from "../figures/energy-surface.js";
import { EXPERIMENTS, reproduce } from "../reproduce/experiments.js";
import { DATASETS, DATASET_SOURCES, generate, writeDataset, checkDatasetTargets, type DatasetName } from "../datasets/generate.js";
import { loadBackgrounds } from "../datasets/backgrounds.js";
import { mnist } from "../datasets/digits.js";
import { MAX_EPOCHS } from "../train/driver.js";
import { suggest, int, real } from "./args.js";
import { type Command, QUIET, progressPrinter, seedOf, workersOf } from "./common.js";

export const datasetsCommand: Command = {
  summary: "generate the paper's benchmark data sets (seeded, bit-reproducible) as IDX + recipe JSON + sample mosaic",
  usage: `generate <${DATASETS.join("|")}|all> --output DIR [--seed N]`,
  options: {
    output: { type: "string", help: "DIR  where the files go (required)" },
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
    // (checked here, not by the parser, so that a mistyped subcommand is what is reported)
    if (typeof v.output !== "string") throw new InputError("--output DIR is required");
    const seed = seedOf(v);
    const scale = real(v, "scale", 0, 1, false, true);
    const names: DatasetName[] = name === "all" ? [...DATASETS] : [name as DatasetName];
    // What the sets are made of is read before anything is written: a missing background image or
    // MNIST file stops the command before the first set, not part-way through "all".
    if (names.some((n) => DATASET_SOURCES[n].digits)) mnist();
    if (names.some((n) => DATASET_SOURCES[n].images)) loadBackgrounds();
    checkDatasetTargets(names, v.output as string);
    const show = progressPrinter(v.quiet === true);
    for (const name of names) {
      const t0 = performance.now();
      const set = generate(name, { seed, scale });
      const files = writeDataset(set, v.output as string);
      show.line(`${name}: ${set.train.y.length} / ${set.valid.y.length} / ${set.test.y.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${files.length} files (${files.find((f) => f.endsWith(".png"))})`);
    }
  },
};

export const reproduceCommand: Command = {
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
    if (!Object.hasOwn(EXPERIMENTS, name)) {
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

export const figureCommand: Command = {
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
    const epochs = int(v, "epochs", 1, MAX_EPOCHS);
    const show = progressPrinter(v.quiet === true);
    const { files } = await energySurface(v.output as string, {
      seed,
      epochs,
      onEpoch: (r) => (r.epoch % 500 === 0 || r.epoch === r.epochs ? show.epoch("", r) : undefined),
    });
    show.line(`wrote ${files.join(", ")}`);
  },
};

