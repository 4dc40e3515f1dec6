// PyTorch as an optional peer: runs bench/peers/torch_peer.py under the system's Python (Debian's
// python3-torch), one child process per job and thread count, with inputs and results passed as raw
// float32 files in a scratch directory. OpenBLAS is put first on LD_LIBRARY_PATH for the child only:
// Debian's torch calls whichever libblas.so.3 the loader finds first, which is the reference BLAS
// unless the system's alternatives say otherwise. The child reports which BLAS it loaded and how many
// threads it ran. Nothing is installed: a
// missing torch is a note and the sections go on without it.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peersDir } from "./tfjs.js";

export const torchHint = "apt-get install python3-torch libopenblas0-pthread (Debian 12), or set AESCORE_TORCH_PYTHON to a Python with torch";

export interface TorchBlas {
  /** "OpenBLAS", "reference BLAS", "MKL", or what torch was built with. */
  name: string;
  /** The libblas.so.3 the process loaded, resolved (null when torch brings its own BLAS). */
  libblas: string | null;
  torchBlasInfo: string | null;
  openblasConfig?: string;
  openblasCore?: string;
  openblasThreads?: number;
}

export interface TorchRun<R> {
  torch: string;
  /** torch.get_num_threads() during the job. */
  threads: number;
  /** OMP_WAIT_POLICY if set (runTorch sets PASSIVE for more than one thread). */
  ompWaitPolicy: string | null;
  blas: TorchBlas;
  result: R;
  /** Resident memory before the job's work (torch imported) and the process's peak, KiB. */
  rssBeforeKb: number;
  peakRssKb: number;
}

const script = join(peersDir, "torch_peer.py");

function python(): string {
  return process.env.AESCORE_TORCH_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/** Debian's OpenBLAS directories (/usr/lib/<triplet>/openblas-pthread), which hold its libblas.so.3. */
function openblasDirs(): string[] {
  try {
    return readdirSync("/usr/lib")
      .map((d) => join("/usr/lib", d, "openblas-pthread"))
      .filter((d) => existsSync(join(d, "libblas.so.3")));
  } catch {
    return [];
  }
}

/** Runs one job with `threads` threads (torch's and OpenBLAS's); the parsed report, or why not. */
export function runTorch<R>(dir: string, job: Record<string, unknown>, threads: number): Promise<TorchRun<R> | string> {
  const file = join(dir, `job-${job.task}-${threads}.json`);
  writeFileSync(file, JSON.stringify({ ...job, dir, threads }));
  const n = String(threads);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LD_LIBRARY_PATH: [...openblasDirs(), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
    OMP_NUM_THREADS: n,
    OPENBLAS_NUM_THREADS: n,
    MKL_NUM_THREADS: n,
  };
  // Debian's torch runs two thread pools, its OpenMP team and OpenBLAS's pthreads, and OpenMP's
  // threads spin after each parallel region by default: on 2 cores the pools then fight (a contractive
  // step took 300–550 ms instead of 25–45 ms on the shared dev machine). Passive waiting, unless the
  // caller chose otherwise.
  if (threads > 1 && env.OMP_WAIT_POLICY === undefined) env.OMP_WAIT_POLICY = "PASSIVE";
  return new Promise((resolve) => {
    execFile(python(), [script, file], { env, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      let report: (TorchRun<R> & { error?: string }) | undefined;
      try {
        report = JSON.parse(last);
      } catch {
        // not JSON: the process failed before printing its report
      }
      if (report?.error) resolve(report.error);
      else if (error || !report) resolve(`torch peer failed (${python()} ${script}): ${(stderr.trim().split("\n").pop() ?? "") || error?.message}`);
      else resolve(report);
    });
  });
}

let probe: Promise<TorchRun<null> | string> | undefined;

/** Whether torch runs here (checked once per bench run): its report of an empty job, or a note. */
export function torchPeer(): Promise<TorchRun<null> | string> {
  probe ??= (async () => {
    const s = scratch();
    try {
      const r = await runTorch<null>(s.dir, { task: "info" }, 1);
      return typeof r === "string" ? `torch peer not available (${r}); install: ${torchHint}` : r;
    } finally {
      s.done();
    }
  })();
  return probe;
}

/** e.g. "torch 1.13.0a0, OpenBLAS 0.3.21 (Cooperlake) via /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" */
export function describeTorch(r: TorchRun<unknown>): string {
  const b = r.blas;
  const version = b.openblasConfig ? b.openblasConfig.split(" ").slice(0, 2).join(" ") : b.name;
  return `torch ${r.torch}, ${version}${b.openblasCore ? ` (${b.openblasCore})` : ""}${b.libblas ? ` via ${b.libblas}` : ""}`;
}

/** The backend column of a torch row: which BLAS and how many threads (torch's, and the BLAS's if they differ). */
export function torchBackend(r: TorchRun<unknown>, what = ""): string {
  const t = r.blas.openblasThreads;
  const plural = (n: number) => `${n} thread${n === 1 ? "" : "s"}`;
  const threads = t === undefined || t === r.threads ? plural(r.threads) : `torch ${plural(r.threads)}, BLAS ${plural(t)}`;
  const wait = r.ompWaitPolicy && r.threads > 1 ? `, OMP_WAIT_POLICY=${r.ompWaitPolicy}` : "";
  return `${r.blas.name}, ${threads}${wait}${what ? `, ${what}` : ""}`;
}

/** A scratch directory for one section's exchange with the child: raw little-endian arrays by name. */
export function scratch(): {
  dir: string;
  write(name: string, a: Float32Array | Int32Array): string;
  read(name: string): Float32Array;
  done(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "aescore-torch-"));
  return {
    dir,
    write(name, a) {
      writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return name;
    },
    read(name) {
      const b = readFileSync(join(dir, name));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}
