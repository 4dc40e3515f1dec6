#!/usr/bin/env node
// The `aescore` command line. Each command declares its options once; --help is built from them.
// A command checks every option, every input file and every output path before any work starts,
// and answers bad input with one line: `aescore <command>: <what is wrong, and where>`.

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AescoreError, InputError, quote, safeText } from "../errors.js";
import { parseOptions, suggest } from "./args.js";
import { DivergenceError } from "../train/driver.js";
import { HELP, helpText, type Command } from "./common.js";
import { infoCommand, energyCommand, predictCommand, evaluateCommand, exportCommand, scoreCommand, evaluateNoveltyCommand } from "./score.js";
import { trainAeCommand, trainCommand } from "./train.js";
import { datasetsCommand, reproduceCommand, figureCommand } from "./experiments.js";

const commands: Record<string, Command> = {
  info: infoCommand, energy: energyCommand, "train-ae": trainAeCommand, train: trainCommand, predict: predictCommand,
  evaluate: evaluateCommand, score: scoreCommand, "evaluate-novelty": evaluateNoveltyCommand, export: exportCommand, datasets: datasetsCommand, reproduce: reproduceCommand, figure: figureCommand,
};

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
  // Node decodes arguments as UTF-8: a file name that is not becomes U+FFFD, naming another file.
  const garbled = argv.findIndex((a) => a.includes("\uFFFD"));
  if (garbled >= 0) {
    console.error(`aescore: argument ${garbled + 1} (${quote(argv[garbled])}) is not valid UTF-8 (a file name in another encoding?): rename the file`);
    return 2;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    // Asked for, the usage is the output (stdout, exit 0); without a command it is the error (stderr, 2).
    if (name === undefined) console.error(usage());
    else console.log(usage());
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
      // The library names its trainer ("train: …"); under the command of the same name once is enough.
      // Names, paths and labels in a message come from outside: nothing in it may drive the terminal.
      // (escaped, not joined: a newline in a path stays visible as \u000a, naming the right file)
      let message = safeText(err.message);
      // A diverged run names the flag of the rate at fault: pretraining's is --pretrain-lr under train.
      if (err instanceof DivergenceError && (name === "train" || name === "train-ae")) message = message.replace("lower the learning rate", `lower the learning rate ${name === "train" && err.what !== "finetune" && err.what !== "energies + logistic regression" ? "--pretrain-lr" : "--lr"}`);
      // (train-ae runs the library's autoencoder trainer, "train"; train runs its fitter, "fit")
      // Scoring runs 1024 rows at a time: what does not fit is the model's size times that.
      if (message.startsWith("engine: out of memory") && !name.startsWith("train")) message += " (scoring takes up to 1024 rows at a time, and the model's hidden units for them must fit)";
      // (under train, the library's "train: " is its pretraining)
      if (name === "train" && err instanceof DivergenceError && message.startsWith("train: ")) message = `pretraining: ${message.slice("train: ".length)}`;
      const owns = name === "train-ae" ? ["train: "] : name === "train" ? ["train: ", "fit: "] : [`${name}: `];
      const own = owns.find((p) => message.startsWith(p));
      console.error(`aescore ${name}: ${own ? message.slice(own.length) : message}`);
      return 2;
    }
    console.error(`aescore ${name}: ${safeText(describeUnexpected(err).replace(/\s*\n\s*/g, " "))}`);
    if (process.env.AESCORE_DEBUG) console.error((err as Error)?.stack);
    return 1;
  }
}

/**
 * Exits once stdout has taken everything: output still in a pipe's buffer when the process exits is
 * lost, and a failed write (a full disk, a closed stdout) arrives only as an 'error' event. A reader
 * that stopped reading (`| head`) ends the output quietly, with the command's own exit code; any
 * other failure is one line and exit 1.
 */
function exitAfterOutput(name: string | undefined, code: number, failure: () => NodeJS.ErrnoException | undefined): void {
  const done = (err?: Error | null) => {
    const f = failure() ?? ((process.stdout.errored ?? err) as NodeJS.ErrnoException | null | undefined) ?? undefined;
    if (f && f.code !== "EPIPE") console.error(`aescore${name ? ` ${safeText(name)}` : ""}: cannot write the output to stdout: ${safeText(f.message)}`);
    // (a reader that stopped is the reader's choice: the exit says how the command itself went)
    process.exit(f && f.code !== "EPIPE" ? 1 : code);
  };
  if (process.stdout.destroyed || !process.stdout.writable) return done();
  process.stdout.write("", done);
}

// Run when executed (directly or through npm's bin link), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let failure: NodeJS.ErrnoException | undefined;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => void (failure ??= err));
  const argv = process.argv.slice(2);
  main(argv).then((code) => exitAfterOutput(argv[0], code, () => failure));
}

