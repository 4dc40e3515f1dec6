#!/usr/bin/env node
// The `aescore` command line. Each command declares its options once; --help is built from them.

import { parseArgs } from "node:util";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AescoreError, InputError } from "./errors.js";
import { decodeSafetensors } from "./safetensors.js";
import { readBytes } from "./node.js";

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
      Object.entries({ ...c.options, help: HELP }).map(([k, o]) => [k, { type: o.type, short: o.short, default: o.default }]),
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
