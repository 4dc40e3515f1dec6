#!/usr/bin/env node
// The `aescore` command line. Each command declares its options once; --help is built from them.

import { parseArgs } from "node:util";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AescoreError, InputError } from "./errors.js";
import { decodeSafetensors } from "./safetensors.js";
import { readBytes, readArray, writeArray } from "./node.js";
import { createEngineSync, type Engine } from "./engine.js";
import { checkInput, decodeAutoencoder, type Autoencoder } from "./autoencoder.js";
import { energy, reconstruct, field, laplacian, hidden } from "./energy.js";
import { decodeCsae } from "./csae.js";
import { decodeFactored, factoredAsCsae } from "./factored.js";
import { encodeCsv } from "./data.js";
import type { Tensor } from "./safetensors.js";

interface Option {
  type: "string" | "boolean";
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
    const def = o.default !== undefined && o.default !== false ? ` (default ${o.default})` : "";
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

/** Any model file as its autoencoders (one for kind "autoencoder", K for the classifiers). */
export function loadAutoencoders(e: Engine, path: string): { kind: string; aes: Autoencoder[]; classes?: string[] } {
  const bytes = readBytes(path);
  const kind = decodeSafetensors(bytes, path).metadata.kind;
  if (kind === "autoencoder") return { kind, aes: [decodeAutoencoder(e, bytes, path)] };
  if (kind === "csae") {
    const m = decodeCsae(e, bytes, path);
    return { kind, aes: m.aes, classes: m.classes };
  }
  if (kind === "factored-csae") {
    const m = factoredAsCsae(decodeFactored(e, bytes, path));
    return { kind, aes: m.aes, classes: m.classes };
  }
  throw new InputError(`${path}: unknown model kind ${JSON.stringify(kind)} (autoencoder, csae, factored-csae)`);
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
    model: { type: "string", help: "FILE  the model (.safetensors: autoencoder, csae or factored-csae)" },
    input: { type: "string", help: "FILE  input rows: .npy (f32, f64, u8), .csv, IDX (optionally .gz)" },
    output: { type: "string", help: "FILE  where to write the result (.npy or .csv); default: CSV on stdout" },
    what: { type: "string", default: "energy", help: `${WHAT.join("|")}` },
    scale: { type: "string", default: "auto", help: "auto: u8 input is divided by 255; none: used as is" },
  },
  run(values) {
    const { model, input, output, what, scale } = values as Record<string, string | undefined>;
    if (!model) throw new InputError("energy: --model is required");
    if (!input) throw new InputError("energy: --input is required");
    if (!WHAT.includes(what as (typeof WHAT)[number])) throw new InputError(`energy: --what must be one of ${WHAT.join(", ")}, not ${JSON.stringify(what)}`);
    const e = createEngineSync();
    const { aes } = loadAutoencoders(e, model);
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
