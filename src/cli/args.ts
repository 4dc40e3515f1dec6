// The command line's arguments: each command declares its options once (type, default, help), and
// this module parses them strictly, with one-line errors that suggest the option meant.

import { InputError, printable } from "../errors.js";
import { DECIMAL } from "../formats/idx-csv.js";

export interface Option {
  type: "string" | "boolean";
  /** Checked before the command runs: a one-line error names it. */
  required?: boolean;
  short?: string;
  default?: string;
  /** Shown in --help, e.g. "FILE  the model (.safetensors)". */
  help: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Parsed {
  values: Values;
  /** The options the user gave (not filled in from defaults). */
  given: Set<string>;
  positionals: string[];
}

/** Edit distance, for "did you mean" (small words only, so the quadratic cost does not matter). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `word` (a typo or a prefix of it), if any is close. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : distance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

/**
 * Parses `--name value`, `--name=value`, boolean `--flag` and short `-x` options. A string option
 * takes the next argument whatever it looks like (so `--seed -1` reaches the number check); `--`
 * ends the options.
 */
export function parseOptions(options: Record<string, Option>, argv: string[], allowPositionals: boolean): Parsed {
  const values: Values = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  const names = Object.keys(options);
  const short = new Map(Object.entries(options).flatMap(([k, o]) => (o.short ? [[o.short, k] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      const rest = argv.slice(i + 1);
      if (rest.length > 0 && !allowPositionals) throw new InputError(`unexpected argument ${printable(rest[0], "token")} after --: this command takes options only (see --help)`);
      positionals.push(...rest);
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      // (own keys only: "constructor" or "__proto__" is no option, though `in` finds it)
      if (!Object.hasOwn(options, name)) {
        const s = suggest(name, names);
        throw new InputError(`unknown option --${printable(name, "token")}${s ? `; did you mean --${s}?` : ` (see --help)`}`);
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = short.get(arg[1]);
      if (!name) throw new InputError(`unknown option ${arg} (see --help)`);
    } else {
      if (!allowPositionals) throw new InputError(`unexpected argument ${printable(arg, "token")}: options are written --name value (see --help)`);
      positionals.push(arg);
      continue;
    }
    if (given.has(name)) throw new InputError(`--${name} is given twice`);
    given.add(name);
    if (options[name].type === "boolean") {
      if (inline !== undefined) throw new InputError(`--${name} is a switch and takes no value (got ${printable(inline, "token")})`);
      values[name] = true;
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new InputError(`--${name} needs a value`);
      // (a value forgotten: the option after it would be taken as the value, and its own value reported as stray)
      const next = argv[i + 1];
      const nextName = next.startsWith("--") ? next.slice(2).split("=")[0] : undefined;
      if (nextName !== undefined && Object.hasOwn(options, nextName)) throw new InputError(`--${name} needs a value (the next word, --${nextName}, is an option)`);
      inline = argv[++i];
    }
    values[name] = inline;
  }
  for (const [name, o] of Object.entries(options)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  }
  return { values, given, positionals };
}


function parse(values: Values, name: string): number {
  const v = values[name];
  const x = typeof v === "string" && DECIMAL.test(v.trim()) ? Number(v) : NaN;
  return Number.isFinite(x) ? x : NaN;
}

/** An integer option in [min, max], written in decimal digits (a one-line error otherwise). */
export function int(values: Values, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = values[name];
  const x = typeof v === "string" && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!(Number.isSafeInteger(x) && x >= min && x <= max)) {
    const what = max < Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}`
      : min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : `an integer >= ${min}`;
    const big = Number.isFinite(x) && !Number.isSafeInteger(x) ? " (too large to count exactly)" : "";
    throw new InputError(`--${name} must be ${what}, not ${printable(String(values[name] ?? ""), "token")}${big}`);
  }
  return x;
}

/** A real option in [min, max] (or the half-open interval when `openMax`). */
export function real(values: Values, name: string, min = -Infinity, max = Infinity, openMax = false, openMin = false): number {
  const x = parse(values, name);
  const ok = Number.isFinite(x) && (openMin ? x > min : x >= min) && (openMax ? x < max : x <= max);
  if (!ok) {
    const range =
      min === -Infinity && max === Infinity ? "a number"
      : max === Infinity ? `a number ${openMin ? ">" : ">="} ${min}`
      : `a number in ${openMin ? "(" : "["}${min}, ${max}${openMax ? ")" : "]"}`;
    throw new InputError(`--${name} must be ${range}, not ${printable(String(values[name] ?? ""), "token")}`);
  }
  return x;
}

/** A comma-separated list of reals or integers (model selection grids). */
export function list(values: Values, name: string, one: (v: Values, n: string) => number): number[] {
  const text = String(values[name] ?? "");
  const xs = text.split(",").map((part) => {
    try {
      return one({ [name]: part }, name);
    } catch (err) {
      throw new InputError(`${(err as Error).message}${text.includes(",") ? ` (in the list ${printable(text, "token")})` : ""}`);
    }
  });
  // (a grid point given twice would be fitted twice, and "4,4" is more likely a slip than a wish)
  const twice = xs.find((x, i) => xs.indexOf(x) !== i);
  if (twice !== undefined) throw new InputError(`--${name} lists ${twice} twice (in the list ${printable(text, "token")})`);
  return xs;
}

/** One of a fixed set of words. */
export function choice<T extends string>(values: Values, name: string, allowed: readonly T[]): T {
  const v = values[name];
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  const s = typeof v === "string" ? suggest(v, [...allowed]) : undefined;
  throw new InputError(`--${name} must be one of ${allowed.join(", ")}, not ${printable(String(v ?? ""), "token")}${s ? `; did you mean ${s}?` : ""}`);
}
