// What every experiment shares: the context, the cache of finished configurations, reports and
// figures written atomically, MNIST splits and test errors.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { loadMnist, makeDir, writeAtomic } from "../node.js";
import { scores, classIndices, type Csae } from "../model/csae.js";
import { errorRate } from "../train/finetune.js";
import { encodePng, mosaic, type Image } from "../figures/plot.js";
import { AescoreError, InputError } from "../errors.js";
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
  /** Only read the cache: a configuration not in it throws NotCached instead of being computed. */
  readOnly?: boolean;
}

/** A configuration a read-only context asked for is not in the cache (caught by the reader). */
export class NotCached extends AescoreError {
  override name = "NotCached";
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
export const spent = new WeakMap<Context, number>();

/**
 * Runs `compute` once per distinct config: a finished one is read back from the cache. An entry that
 * `complete` refuses (written before its value gained a field) is computed again and replaced.
 */
export async function cached<T>(ctx: Context, experiment: string, config: object, compute: () => Promise<T>, complete: (value: Partial<T>) => boolean = () => true): Promise<{ value: T; seconds: number; fromCache: boolean }> {
  const key = createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 16);
  const dir = join(ctx.dir, "cache", experiment);
  const file = join(dir, `${key}.json`);
  let result: { value: T; seconds: number; fromCache: boolean } | undefined;
  if (existsSync(file)) {
    let saved;
    try {
      saved = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new InputError(`${file}: a corrupt cache entry (${(err as Error).message}); delete it to recompute that configuration`);
    }
    if (complete(saved.value)) result = { value: saved.value, seconds: saved.seconds, fromCache: true };
    else if (!ctx.readOnly) ctx.log(`${file}: an entry from an earlier version of this experiment; computing it again`);
  }
  if (!result) {
    if (ctx.readOnly) throw new NotCached(`${experiment}: ${file} is not computed yet`);
    const t0 = performance.now();
    const value = await compute();
    result = { value, seconds: (performance.now() - t0) / 1000, fromCache: false };
    makeDir(dir);
    writeAtomic(file, JSON.stringify({ config, value, seconds: result.seconds }, null, 1));
  }
  spent.set(ctx, (spent.get(ctx) ?? 0) + result.seconds);
  return result;
}

export function machine(): string {
  return `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, Node ${process.version}`;
}

export function writeReport(ctx: Context, name: string, title: string, body: string, seconds: number): void {
  const text = `# ${title}\n\n${body}\n\n## How this was made\n\n- Command: \`${ctx.command}\`\n- Seed: ${ctx.seed}${ctx.quick ? " (--quick: the reduced configuration)" : ""}\n- Machine: ${machine()}\n- Wall time of this run: ${(seconds / 60).toFixed(1)} min${spent.has(ctx) ? `; all its configurations took ${(spent.get(ctx)! / 60).toFixed(1)} min when computed (${join(ctx.dir, "cache")})` : ""}\n- Date: ${new Date().toISOString().slice(0, 10)}\n`;
  makeDir(ctx.dir);
  writeAtomic(join(ctx.dir, `${name}.md`), text);
  ctx.log(`wrote ${join(ctx.dir, `${name}.md`)}`);
}

// Decoded once per process: an experiment asks for MNIST once per table row (table2 reads each row's
// search, which splits it itself), and nothing writes into the rows.
const mnist = new Map<"train" | "test", ReturnType<typeof loadMnist>>();
const mnistOnce = (split: "train" | "test") => mnist.get(split) ?? mnist.set(split, loadMnist(split)).get(split)!;

/** Real MNIST: 60000 training rows (the last `valid` held out) and the 10000 test rows. */
export function mnistSplits(valid: number, trainRows = 60000): { train: Split; valid?: Split; all: Split; test: Split } {
  const tr = mnistOnce("train");
  const te = mnistOnce("test");
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

/** The standard error (in points) of an error rate of `pct`% measured on n rows. */
export function standardError(pct: number, n: number): number {
  const p = pct / 100;
  return 100 * Math.sqrt((p * (1 - p)) / n);
}

/** A difference with its sign: "+0.41", "-0.16". */
export const signed = (x: number) => `${x > 0 ? "+" : ""}${x.toFixed(2)}`;

/** A table cell: ours in bold, then the paper's number and the difference. */
export const versus = (ours: number, paper: number) => `**${ours.toFixed(2)}** (${paper}; ${signed(ours - paper)})`;

/** A mosaic of the first `per` filters of each class's autoencoder (rows: classes). */
export function filterMosaic(m: Csae, per: number): Image {
  const side = Math.round(Math.sqrt(m.aes[0].D));
  const tiles: Float32Array[] = [];
  for (const ae of m.aes) for (let k = 0; k < Math.min(per, ae.H); k++) tiles.push(ae.W.data.subarray(k * ae.D, (k + 1) * ae.D));
  return mosaic(tiles, side, Math.min(per, m.aes[0].H), 2);
}

export function savePng(ctx: Context, name: string, file: string, img: Image): string {
  const dir = join(ctx.dir, name);
  makeDir(dir);
  const path = join(dir, file);
  writeAtomic(path, encodePng(img));
  return path;
}
