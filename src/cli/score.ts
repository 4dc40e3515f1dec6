// Commands that read a model and score rows: info, energy, predict, evaluate.

import { InputError, listed, printable, quote, safeText } from "../errors.js";
import { decodeSafetensors } from "../formats/safetensors.js";
import { encodeNpy } from "../formats/npy.js";
import { readBytes, writeAtomic, formatOf } from "../node.js";
import { createEngineSync } from "../engine/engine.js";
import { checkInput, type Autoencoder } from "../model/autoencoder.js";
import { classIndices } from "../train/fit.js";
import { MODEL_KINDS, autoencodersOf, decodeModel, withThreshold } from "../model/files.js";
import { predict, predictProba, scores } from "../model/csae.js";
import { argmaxRows } from "../tensor.js";
import { energy, reconstruct, field, laplacian, hidden } from "../model/energy.js";
import { choice, real } from "./args.js";
import type { Tensor } from "../tensor.js";
import { exportModel, ONNX_IR_VERSION, ONNX_OPSET } from "../model/onnx.js";
import { noveltyScores, noveltyMethods, noveltyMetrics, rocCurve, calibrateThreshold, calibrationRows, needRows, noveltyFlags, NOVELTY_METHODS } from "../model/novelty.js";
import { encodePng } from "../figures/plot.js";
import { ROC_COLORS, rocPlot } from "../figures/roc.js";
import { emit, type Command, SCALE, HEADER, WHAT, NOTES, loadModel, readRows, readLabels, stack, checkOutput, loadClassifier, scoring } from "./common.js";

export const infoCommand: Command = {
  summary: "describe a model file: kind, activation, tensors and shapes",
  usage: "MODEL.safetensors",
  options: {},
  positionals: true,
  run(_values, positionals) {
    if (positionals.length !== 1) throw new InputError(`give exactly one model file (got ${positionals.length})`);
    const path = positionals[0];
    const file = decodeSafetensors(readBytes(path), path);
    console.log(safeText(path));
    // A file's text never drives the terminal (printable).
    for (const [k, v] of Object.entries(file.metadata)) console.log(`  ${printable(k, "text")}: ${printable(String(v), "text")}`);
    for (const [name, t] of Object.entries(file.tensors)) console.log(`  tensor ${printable(name, "text")} [${t.shape.join(", ")}]`);
    // A model is also read as the other commands read it: a file they would refuse is not described as
    // if it were fine (the listing above stays, to show what is in it).
    if (file.metadata.format === "aescore" && (MODEL_KINDS as readonly string[]).includes(file.metadata.kind)) decodeModel(createEngineSync(), file, path);
  },
};


// Results are built whole before they are written: at most 1 GiB of float32 for .npy, and 2^25
// values (a few hundred MB of text) for CSV.
function checkResultSize(values: number, npy: boolean, what: string): void {
  const max = npy ? 2 ** 28 : 2 ** 25;
  if (values > max) {
    throw new InputError(`${what}: the result would hold ${values} values, more than the ${max} allowed for ${npy ? ".npy (1 GiB)" : "CSV"}: score fewer rows at a time${npy ? "" : ", or write .npy"}`);
  }
}

export const energyCommand: Command = {
  summary: "energies (or reconstruction, field, Laplacian, hidden units) of a model for every input row",
  usage: "--model M.safetensors --input X.(npy|csv|idx) [--output OUT.(npy|csv)] [--what energy] [--class c]",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows: .npy (f16, f32, f64, integers, booleans), .csv, IDX (each optionally gzipped)" },
    output: { type: "string", help: "FILE  where to write the result (.npy or .csv); default: CSV on stdout" },
    what: { type: "string", default: "energy", help: `${WHAT.join("|")}` },
    class: { type: "string", help: "LABEL  a classifier's autoencoder of this class only" },
    scale: SCALE,
    header: HEADER,
    quiet: NOTES,
  },
  run(v) {
    const model = v.model as string;
    const input = v.input as string;
    const what = choice(v, "what", WHAT);
    if (typeof v.output === "string") checkOutput(v.output, { "--model": model, "--input": input });
    const e = createEngineSync();
    const m = loadModel(e, model);
    let aes = autoencodersOf(m);
    if (typeof v.class === "string") {
      if (m.kind === "autoencoder") throw new InputError(`--class: ${model} is one autoencoder, not a classifier`);
      const k = m.csae.classes.indexOf(v.class);
      if (k < 0) throw new InputError(`--class: ${quote(v.class)} is not a class of ${model} (${listed(m.csae.classes)})`);
      aes = [aes[k]];
    }
    // Vectors per class are (K, N, ·): CSV has rows and columns only.
    const vectors = what !== "energy" && what !== "laplacian";
    if (vectors && aes.length > 1 && (typeof v.output !== "string" || formatOf(v.output) === "csv")) {
      throw new InputError(`--what ${what} of a ${aes.length}-class model is (K, N, ${what === "hidden" ? "H" : "D"}), which CSV cannot hold: write .npy (--output R.npy), or choose one class with --class`);
    }
    const X = readRows(input, v, "energy", aes[0].D);
    checkInput(aes[0], X, input); // before any work, naming the file
    checkResultSize(X.shape[0] * aes.length * (what === "energy" || what === "laplacian" ? 1 : what === "hidden" ? aes[0].H : aes[0].D), typeof v.output === "string" && formatOf(v.output) === "npy", `--what ${what}`);
    const one = (ae: Autoencoder): Tensor => {
      const N = X.shape[0];
      if (what === "energy") return { shape: [N], data: energy(ae, X) };
      if (what === "laplacian") return { shape: [N], data: laplacian(ae, X) };
      return (what === "reconstruction" ? reconstruct : what === "field" ? field : hidden)(ae, X);
    };
    emit(v.output, scoring(input, () => stack(aes.map(one))));
  },
};


export const predictCommand: Command = {
  summary: "predict the class of every input row (or the class probabilities)",
  usage: "--model M.safetensors --input X [--proba] [--output P.(npy|csv)]",
  options: {
    model: { type: "string", required: true, help: "FILE  a classifier (csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows" },
    proba: { type: "boolean", help: "write P(y = i | x), (N, K), instead of labels" },
    output: { type: "string", help: "FILE  .npy or .csv (labels: .csv, or int32 .npy of integer labels); default: stdout" },
    scale: SCALE,
    header: HEADER,
    quiet: NOTES,
  },
  run(v) {
    if (typeof v.output === "string") checkOutput(v.output, { "--model": v.model as string, "--input": v.input as string });
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.input as string, v, "predict", m.aes[0].D);
    checkInput(m.aes[0], X, v.input as string);
    // A .npy of labels is int32, as NumPy users expect of class indices.
    const numeric = (l: string) => /^(0|-?[1-9]\d*)$/.test(l) && Number(l) >= -(2 ** 31) && Number(l) < 2 ** 31;
    if (typeof v.output === "string" && !v.proba && formatOf(v.output) !== "csv" && !m.classes.every(numeric)) {
      throw new InputError(`${v.output}: the model's label ${quote(m.classes.find((l) => !numeric(l)))} is not an integer that .npy's int32 holds: write .csv`);
    }
    if (v.proba) {
      checkResultSize(X.shape[0] * m.aes.length, typeof v.output === "string" && formatOf(v.output) === "npy", "--proba");
      const p = scoring(v.input as string, () => predictProba(m, X));
      emit(v.output, { shape: [X.shape[0], m.aes.length], data: Float32Array.from(p) });
      return;
    }
    const labels = scoring(v.input as string, () => predict(m, X));
    if (typeof v.output === "string" && formatOf(v.output) !== "csv") {
      writeAtomic(v.output, encodeNpy({ shape: [labels.length], data: Float64Array.from(labels, Number) }, "<i4"));
      return;
    }
    // One CSV cell per line (RFC 4180: a label with a comma or a quote is quoted).
    const cell = (l: string) => (/[",]/.test(l) || l.trim() !== l ? `"${l.replaceAll('"', '""')}"` : l);
    const text = labels.map(cell).join("\n") + "\n";
    if (typeof v.output === "string") writeAtomic(v.output, text);
    else process.stdout.write(text);
  },
};

const MAX_CONFUSION = 100;

export const evaluateCommand: Command = {
  summary: "error rate and confusion matrix of a classifier on labelled rows",
  usage: "--model M.safetensors --data X --labels L",
  options: {
    model: { type: "string", required: true, help: "FILE  a classifier (csae or factored-csae)" },
    data: { type: "string", required: true, help: "FILE  rows" },
    labels: { type: "string", required: true, help: "FILE  their labels" },
    scale: SCALE,
    header: HEADER,
    quiet: NOTES,
  },
  run(v) {
    const e = createEngineSync();
    const m = loadClassifier(e, v.model as string);
    const X = readRows(v.data as string, v, "evaluate", m.aes[0].D);
    const labels = readLabels(v.labels as string, X.shape[0], v);
    checkInput(m.aes[0], X, v.data as string);
    const y = classIndices(labels, m.classes, v.labels as string);
    const K = m.classes.length;
    const pred = argmaxRows(scoring(v.data as string, () => scores(m, X)), K);
    const wrong = pred.filter((p, n) => p !== y[n]).length;
    console.log(`error rate: ${((100 * wrong) / y.length).toFixed(2)}% (${wrong} of ${y.length})`);
    // A K x K table is read for tens of classes; beyond, it would only be memory and noise.
    if (K > MAX_CONFUSION) {
      console.log(`(no confusion matrix: ${K} classes, more than ${MAX_CONFUSION})`);
      return;
    }
    const confusion = new Int32Array(K * K);
    pred.forEach((p, n) => confusion[y[n] * K + p]++);
    console.log("confusion matrix (rows: true class, columns: predicted):");
    const w = Math.max(5, ...m.classes.map((c) => c.length + 1), String(y.length).length + 1);
    console.log(" ".repeat(w) + m.classes.map((c) => c.padStart(w)).join(""));
    for (let i = 0; i < K; i++) {
      console.log(m.classes[i].padStart(w) + Array.from(confusion.subarray(i * K, (i + 1) * K), (c) => String(c).padStart(w)).join(""));
    }
  },
};


export const exportCommand: Command = {
  summary: "export a model to ONNX: what `energy` computes (an autoencoder's E, a classifier's scores and probabilities)",
  usage: "--model M.safetensors --onnx M.onnx",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    onnx: { type: "string", required: true, help: "FILE  where to write the ONNX model (atomically)" },
  },
  run(v) {
    const out = v.onnx as string;
    checkOutput(out, { "--model": v.model as string }, "ONNX model", ".onnx");
    const m = loadModel(createEngineSync(), v.model as string);
    const bytes = exportModel(m); // (a factored model exports the classifier it was read as: one expansion)
    writeAtomic(out, bytes);
    console.log(`wrote ${safeText(out)} (${bytes.length} bytes, ONNX IR ${ONNX_IR_VERSION}, opset ${ONNX_OPSET})`);
  },
};

export const scoreCommand: Command = {
  summary: "novelty scores: one per input row, higher = more unusual (and a flag per row when the model stores a threshold); --fpr calibrates that threshold",
  usage: "--model M.safetensors --input X [--method METHOD] [--output S.(npy|csv)]  |  --model M --input X_valid --fpr 0.05 [--method METHOD] [--save M2.safetensors]",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    input: { type: "string", required: true, help: "FILE  input rows (with --fpr: held-in validation rows)" },
    method: { type: "string", help: `${NOVELTY_METHODS.join("|")} (default: the stored threshold's, else energy for an autoencoder, logsumexp for a classifier)` },
    output: { type: "string", help: "FILE  .npy or .csv; default: CSV on stdout (columns: score, and flag 1/0 when the model stores a threshold for the method)" },
    fpr: { type: "string", help: "F  in (0, 1): store in the model the threshold above which this fraction of the --input rows (at most) scores" },
    save: { type: "string", help: "FILE  with --fpr: write the model with its threshold here (.safetensors, atomically) instead of over --model" },
    scale: SCALE,
    header: HEADER,
    quiet: NOTES,
  },
  run(v) {
    const model = v.model as string;
    const input = v.input as string;
    const method = v.method === undefined ? undefined : choice(v, "method", NOVELTY_METHODS);
    const fpr = v.fpr === undefined ? undefined : real(v, "fpr", 0, 1, true, true);
    if (fpr === undefined && v.save !== undefined) throw new InputError("--save writes a calibrated model: it needs --fpr");
    if (fpr !== undefined && v.output !== undefined) throw new InputError("--output writes scores; with --fpr the result is the model (written over --model, or to --save)");
    if (fpr !== undefined) {
      const save = typeof v.save === "string" ? v.save : undefined;
      // In place, --model is the output (its own input only through --input); --save must be neither input.
      checkOutput(save ?? model, save === undefined ? { "--input": input } : { "--model": model, "--input": input }, "model", save === undefined ? "any" : ".safetensors");
    } else if (typeof v.output === "string") {
      checkOutput(v.output, { "--model": model, "--input": input });
    }
    const bytes = readBytes(model);
    const m = decodeModel(createEngineSync(), bytes, model);
    const scored = m.kind === "autoencoder" ? m.ae : m.csae;
    if (method && !noveltyMethods(scored).includes(method)) {
      throw new InputError(`--method ${method} is not for ${m.kind === "autoencoder" ? "an autoencoder" : "a classifier"} (${noveltyMethods(scored).join(", ")})`);
    }
    const X = readRows(input, v, "score", autoencodersOf(m)[0].D);
    checkInput(autoencodersOf(m)[0], X, input);
    // Without --method, the stored threshold's method (re-calibrating keeps it), else the default.
    const how = method ?? m.novelty?.method;
    if (fpr !== undefined) {
      if (X.shape[0] < calibrationRows(fpr)) throw new InputError(`${input}: ${X.shape[0]} row${X.shape[0] === 1 ? "" : "s"} cannot calibrate --fpr ${v.fpr}: ${needRows(fpr)}`);
      const t = scoring(input, () => calibrateThreshold(scored, X, fpr, how));
      const out = typeof v.save === "string" ? v.save : model;
      writeAtomic(out, withThreshold(bytes, t, model));
      const was = !m.novelty ? "" : out === model ? ` (replacing its ${m.novelty.method} threshold ${m.novelty.threshold})` : ` (${model} keeps its ${m.novelty.method} threshold ${m.novelty.threshold})`;
      console.log(`${t.method} threshold ${t.threshold}: ${t.flagged} of ${t.rows} rows of ${safeText(input)} (${(100 * t.flagged / t.rows).toFixed(2)}%) score above it, for --fpr ${fpr}; stored in ${safeText(out)}${was}`);
      return;
    }
    const s = scoring(input, () => noveltyScores(scored, X, how));
    if (!m.novelty || (how !== undefined && how !== m.novelty.method)) {
      if (m.novelty && v.quiet !== true) console.error(`aescore score: note: ${safeText(model)} stores a threshold for ${m.novelty.method} scores, not ${how}: no flags`);
      emit(v.output, { shape: [s.length], data: Float32Array.from(s) });
      return;
    }
    const flags = noveltyFlags(s, m.novelty, m.novelty.method);
    const out = new Float32Array(2 * s.length);
    s.forEach((x, n) => {
      out[2 * n] = x;
      out[2 * n + 1] = flags[n];
    });
    emit(v.output, { shape: [s.length, 2], data: out });
  },
};

export const evaluateNoveltyCommand: Command = {
  summary: "how well novelty scores tell novel rows from held-in ones: AUROC, AUPR, FPR at 95% TPR per method, a ROC plot, and the stored threshold's rates",
  usage: "--model M.safetensors --in X_in --out X_out [--plot roc.png]",
  options: {
    model: { type: "string", required: true, help: "FILE  the model (.safetensors)" },
    in: { type: "string", required: true, help: "FILE  held-in rows (like the training data)" },
    out: { type: "string", required: true, help: "FILE  novel rows" },
    plot: { type: "string", help: "FILE  the ROC curves of every method (.png)" },
    scale: SCALE,
    header: HEADER,
    quiet: NOTES,
  },
  run(v) {
    if (typeof v.plot === "string") {
      checkOutput(v.plot, { "--model": v.model as string, "--in": v.in as string, "--out": v.out as string }, "plot", ".png");
    }
    const m = loadModel(createEngineSync(), v.model as string);
    const model = m.kind === "autoencoder" ? m.ae : m.csae;
    const ae = autoencodersOf(m)[0];
    const Xin = readRows(v.in as string, v, "evaluate-novelty", ae.D);
    const Xout = readRows(v.out as string, v, "evaluate-novelty", ae.D);
    checkInput(ae, Xin, v.in as string);
    checkInput(ae, Xout, v.out as string);
    const methods = noveltyMethods(model);
    // Printed once every method is scored: a late error (a score that is not a number) leaves no half table.
    const table = [
      `${Xin.shape[0]} held-in rows (${safeText(v.in as string)}), ${Xout.shape[0]} novel rows (${safeText(v.out as string)}); positives: the novel rows`,
      "| method | AUROC | AUPR | FPR at 95% TPR |",
      "|---|---|---|---|",
    ];
    const curves: Array<Array<[number, number]>> = [];
    let stored = "";
    const skipped: string[] = [];
    for (const method of methods) {
      let a: Float64Array, b: Float64Array;
      try {
        a = scoring(v.in as string, () => noveltyScores(model, Xin, method));
        b = scoring(v.out as string, () => noveltyScores(model, Xout, method));
      } catch (err) {
        // A row that leaves this method's score undefined (energies beyond float32 under max-prob)
        // costs this method its line, not the other methods theirs.
        if (!(err instanceof InputError)) throw err;
        table.push(`| ${method} | — | — | — |`);
        curves.push([]); // (the plot's colours stay the methods')
        skipped.push(`${method}: ${err.message}`);
        continue;
      }
      const r = noveltyMetrics(a, b);
      table.push(`| ${method} | ${r.auroc.toFixed(4)} | ${r.aupr.toFixed(4)} | ${r.fprAt95.toFixed(4)} |`);
      curves.push(rocCurve(a, b));
      if (m.novelty?.method === method) {
        const rate = (f: Uint8Array) => (f.reduce((x, y) => x + y, 0) / f.length).toFixed(4);
        stored = `stored threshold (${method} > ${m.novelty.threshold}, calibrated for FPR ${m.novelty.fpr} on ${m.novelty.rows} rows): flags ${rate(noveltyFlags(a, m.novelty, method))} of the held-in rows (FPR), ${rate(noveltyFlags(b, m.novelty, method))} of the novel rows (TPR)`;
      }
    }
    if (skipped.length === methods.length) throw new InputError(skipped.join("; "));
    console.log(table.join("\n"));
    for (const why of skipped) console.log(`not scored, ${why}`);
    if (stored) console.log(stored);
    if (typeof v.plot === "string") {
      const img = rocPlot(curves, methods);
      writeAtomic(v.plot, encodePng(img));
      console.log(`ROC curves in ${safeText(v.plot as string)} (x: false positive rate, y: true positive rate; ${methods.map((n, i) => `${n} ${ROC_COLORS[i % ROC_COLORS.length].name}`).join(", ")})`);
    }
  },
};
