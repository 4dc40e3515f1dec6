// The hostile-input corpus (test/hostile/corpus.ts), run as users run the CLI: each case a child
// process in its own temporary directory, checked for generic properties only —
//   1. exit code exactly as expected (2 for bad input), no signal, within the case's timeout;
//   2. stderr one non-empty line "aescore <command>: …" ("aescore: …" for unknown commands),
//      without stack frames, error-class dumps or undefined/null/NaN/[object (unless about NaN);
//   3. every file in the directory byte-identical afterwards (inputs, an existing output path),
//      nothing created (no output, no leftover .<name>.<pid>-<thread>.tmp);
//   4. peak RSS below 1 GiB, as reported by test/hostile/measure.mjs.
// Positive controls (expectCode 0) guard against a corpus passed by rejecting everything.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, STANDARD, STANDARD_DIRS, type Case } from "./hostile/corpus.js";

const measure = fileURLToPath(new URL("../../test/hostile/measure.mjs", import.meta.url));
const COMMANDS = ["info", "energy", "train-ae", "train", "predict", "evaluate", "evaluate-novelty", "score", "export", "datasets", "reproduce", "figure"];
const RSS_LIMIT_KB = 1024 * 1024;
const DEFAULT_TIMEOUT = 5_000;
const POOL = 4;
const HEAVY_LANES = 2;

/** Every entry under dir (not following links): content hash, link target, or kind. */
function snapshot(dir: string, rel = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    const full = join(dir, p);
    const st = lstatSync(full);
    if (st.isSymbolicLink()) out.set(p, `link ${readlinkSync(full)}`);
    else if (st.isDirectory()) {
      out.set(p, "dir");
      try {
        for (const [k, v] of snapshot(dir, p)) out.set(k, v);
      } catch {
        out.set(p, "dir (unreadable)");
      }
    } else if (st.isFile()) out.set(p, `file ${createHash("sha256").update(readFileSync(full)).digest("hex")}`);
    else out.set(p, st.isFIFO() ? "fifo" : "other");
  }
  return out;
}

function prepare(c: Case, dir: string): void {
  for (const d of STANDARD_DIRS) mkdirSync(join(dir, d));
  for (const [name, content] of Object.entries({ ...STANDARD, ...c.files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  c.setup?.(dir);
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
  rssKb?: number;
}

function runChild(args: string[], cwd: string, rssFile: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [measure, ...args], {
      cwd,
      env: { ...process.env, AESCORE_RSS_FILE: rssFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const cap = 1 << 16;
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout = (stdout + s).slice(0, cap)));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(0, cap)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const rssKb = existsSync(rssFile) ? Number(readFileSync(rssFile, "utf8")) : undefined;
      resolve({ code, signal, timedOut, ms: performance.now() - t0, stdout, stderr, rssKb });
    });
  });
}

/** The properties a case breaks (empty: it passes). */
function check(c: Case, o: Outcome, before: Map<string, string>, after: Map<string, string>): string[] {
  const problems: string[] = [];
  const want = c.expectCode ?? 2;
  const timeout = c.timeoutMs ?? DEFAULT_TIMEOUT;
  if (o.timedOut) problems.push(`no exit within ${timeout / 1000} s (killed)`);
  else if (o.signal) problems.push(`killed by ${o.signal}`);
  else if (o.code !== want) problems.push(`exit code ${o.code}, want ${want}`);
  const err = o.stderr;
  if (/^\s+at /m.test(err)) problems.push("stack frame on stderr");
  if (want !== 0) {
    const lines = err.replace(/\n$/, "").split("\n");
    const prefix = COMMANDS.includes(c.args[0]) ? `aescore ${c.args[0]}: ` : "aescore: ";
    if (err.trim() === "") problems.push("stderr is empty");
    else if (lines.length !== 1) problems.push(`stderr has ${lines.length} lines`);
    if (!err.startsWith(prefix)) problems.push(`stderr does not start with ${JSON.stringify(prefix)}`);
    if (/\b\w*Error: /.test(err)) problems.push("an Error: dump on stderr");
    if (!c.allowNaN && /\b(undefined|null|NaN)\b|\[object/.test(err)) problems.push("stderr says undefined/null/NaN/[object");
    for (const re of c.expectStderr ?? []) if (!re.test(err)) problems.push(`stderr does not match ${re}`);
  }
  const allowed = new Set(c.outputs ?? []);
  for (const [p, v] of before) {
    if (allowed.has(p)) continue;
    const now = after.get(p);
    if (now === undefined) problems.push(`${p} was removed`);
    else if (now !== v) problems.push(`${p} was changed`);
  }
  for (const p of after.keys()) {
    if (before.has(p) || allowed.has(p)) continue;
    problems.push(/(^|\/)\.[^/]+\.\d+(-\d+)?\.tmp$/.test(p) ? `leftover temporary file ${p}` : `${p} was created`);
  }
  for (const p of allowed) if (want === 0 && !after.has(p)) problems.push(`${p} was not written`);
  if (o.rssKb === undefined) {
    if (!o.timedOut) problems.push("no peak-memory report");
  } else if (o.rssKb > RSS_LIMIT_KB) {
    problems.push(`peak RSS ${(o.rssKb / 1024).toFixed(0)} MiB > ${RSS_LIMIT_KB / 1024} MiB`);
  }
  return problems;
}

test("hostile corpus: every bad input is a one-line exit-2 error, nothing touched, memory bounded", async () => {
  const names = new Set<string>();
  for (const c of CASES) {
    assert.not.ok(names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
  }
  const root = mkdtempSync(join(tmpdir(), "aescore-hostile-"));
  const failures: string[] = [];
  const skipped: string[] = [];
  let pass = 0;
  // Two workers take the heavy cases first (two at a time at most), then help with the rest.
  const heavy = CASES.map((c, i) => i).filter((i) => CASES[i].heavy);
  const light = CASES.map((c, i) => i).filter((i) => !CASES[i].heavy);
  const worker = async (lane: number) => {
    for (;;) {
      const i = lane < HEAVY_LANES && heavy.length > 0 ? heavy.shift()! : light.shift();
      if (i === undefined) return;
      const c = CASES[i];
      if (c.skip) {
        skipped.push(`${c.name}: ${c.skip}`);
        continue;
      }
      const dir = join(root, String(i));
      mkdirSync(dir);
      prepare(c, dir);
      const before = snapshot(dir);
      const o = await runChild(c.args, dir, join(root, `${i}.rss`), c.timeoutMs ?? DEFAULT_TIMEOUT);
      const problems = check(c, o, before, snapshot(dir));
      if (problems.length === 0) {
        pass++;
      } else {
        const code = o.timedOut ? "timeout" : o.signal ?? String(o.code);
        failures.push(`✗ ${c.name}\n    aescore ${c.args.map((a) => (a === "" || /\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n    exit ${code}, ${(o.ms / 1000).toFixed(1)} s, peak ${o.rssKb === undefined ? "?" : (o.rssKb / 1024).toFixed(0)} MiB: ${problems.join("; ")}\n    stderr: ${JSON.stringify(o.stderr.slice(0, 200))}`);
      }
    }
  };
  await Promise.all(Array.from({ length: POOL }, (_, lane) => worker(lane)));
  const run = CASES.length - skipped.length;
  console.log(`hostile corpus: ${run} cases, ${pass} pass${skipped.length ? ` (${skipped.length} skipped)` : ""}`);
  for (const s of skipped) console.log(`  skipped: ${s}`);
  if (failures.length > 0) console.log(failures.join("\n"));
  // Make read-only directories writable again so the temporary tree can be removed.
  const thaw = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        chmodSync(p, 0o755);
        thaw(p);
      }
    }
  };
  thaw(root);
  if (process.env.AESCORE_HOSTILE_KEEP) console.log(`(case directories kept in ${root})`);
  else rmSync(root, { recursive: true, force: true });
  assert.is(failures.length, 0, `${failures.length} of ${run} hostile cases fail (listed above)`);
});

test.run();
