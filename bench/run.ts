// `npm run bench [-- --json] [--quick] [--only SECTION]`: runs the bench sections, each comparing
// aescore with its peers in one process, and prints one table per section (and JSON lines).
// A section is one function (see harness.ts); add it to SECTIONS. Missing peers are skipped, not fatal.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasSimd } from "../src/index.js";
import { gemmSection } from "./gemm.js";
import { activationsSection } from "./activations.js";
import { energySection } from "./energy.js";
import { trainingSection } from "./training.js";
import { finetuneSection } from "./finetune.js";
import type { Context, Row, Section } from "./harness.js";
import { loadTfjs } from "./tfjs.js";
import { describeTorch, torchPeer } from "./torch.js";

const SECTIONS: Record<string, Section> = {
  gemm: gemmSection,
  activations: activationsSection,
  energy: energySection,
  training: trainingSection,
  finetune: finetuneSection,
};

const USAGE = `usage: npm run bench -- [--json] [--quick] [--only ${Object.keys(SECTIONS).join("|")}]
  --json   also print one JSON object per result line (lines starting with "{")
  --quick  short time budgets (smoke run; numbers are noisier)
  --only   run one section`;

interface Options {
  json: boolean;
  quick: boolean;
  only: string[];
}

function parseArgs(argv: string[]): Options | string {
  const o: Options = { json: false, quick: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") o.json = true;
    else if (arg === "--quick") o.quick = true;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const name = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (!name || !(name in SECTIONS)) return `unknown section ${JSON.stringify(name ?? "")}`;
      o.only.push(name);
    } else if (arg === "--help" || arg === "-h") return "";
    else return `unknown option ${JSON.stringify(arg)}`;
  }
  return o;
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return cpus()[0]?.model ?? "unknown CPU";
}

function commit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}

function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  return x >= 10 ** digits ? x.toFixed(0) : x.toPrecision(digits);
}

/** A Markdown table, so a run's output pastes into bench/RESULTS.md as is. */
function table(rows: Row[]): string {
  const vsKeys = [...new Set(rows.flatMap((r) => Object.keys(r.vs ?? {})))];
  const hasGbps = rows.some((r) => r.gbps !== undefined);
  const hasRate = rows.some((r) => r.perSec !== undefined);
  const head = ["shape", "op", "contender", "median ms", "runs", "GFLOP/s", ...(hasGbps ? ["GB/s"] : []), ...(hasRate ? ["per s"] : []), ...vsKeys.map((k) => `vs ${k}`)];
  const body = rows.map((r) => [
    `(${r.shape.join(",")})`,
    r.op,
    `${r.lib} ${r.backend}`,
    fmt(r.ms),
    String(r.samples),
    r.gflops === undefined ? "" : fmt(r.gflops),
    ...(hasGbps ? [r.gbps === undefined ? "" : fmt(r.gbps)] : []),
    ...(hasRate ? [r.perSec === undefined ? "" : fmt(r.perSec)] : []),
    ...vsKeys.map((k) => (r.vs?.[k] === undefined ? "" : `${fmt(r.vs[k])}x`)),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]) => `| ${cells.map((s, c) => (c < 3 ? s.padEnd(width[c]) : s.padStart(width[c]))).join(" | ")} |`;
  const rule = `|${width.map((w, c) => (c < 3 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (typeof o === "string") {
    if (o) console.error(o);
    (o ? console.error : console.log)(USAGE);
    process.exitCode = o ? 2 : 0;
    return;
  }
  const names = o.only.length > 0 ? o.only : Object.keys(SECTIONS);

  const peer = await loadTfjs();
  console.log(`aescore bench, ${new Date().toISOString()}, commit ${commit()}${o.quick ? ", --quick" : ""}`);
  console.log(`cpu: ${cpuModel()} (${availableParallelism()} cores), node ${process.version}, aescore auto backend: ${hasSimd() ? "simd" : "scalar"}`);
  console.log(typeof peer === "string" ? `note: ${peer}` : `tfjs-wasm: ${peer.describe}`);
  const torch = await torchPeer();
  console.log(typeof torch === "string" ? `note: ${torch}` : `torch: ${describeTorch(torch)} (a child process per job: bench/peers/torch_peer.py)`);
  console.log("timing: tinybench, median latency of one call; GFLOP/s = 2*M*N*K / median; vs X = aescore GFLOP/s / X GFLOP/s");

  let failed = false;
  for (const name of names) {
    const rows: Row[] = [];
    const ctx: Context = {
      quick: o.quick,
      tfjs: typeof peer === "string" ? null : peer,
      report(row) {
        rows.push(row);
        if (o.json) console.log(JSON.stringify(row));
      },
      fail(message) {
        failed = true;
        console.error(`error: ${message}`);
      },
    };
    try {
      await SECTIONS[name](ctx);
    } catch (e) {
      ctx.fail(`${name}: ${(e as Error)?.stack ?? String(e)}`);
    }
    console.log(`\n## ${name}\n\n${rows.length > 0 ? table(rows) : "(no results)"}\n`);
  }
  if (failed) process.exitCode = 1;
}

await main();
