#!/usr/bin/env python3
# PyTorch as a peer of `npm run bench` (bench/torch.ts starts it as a child process, one per job and
# thread count): reads a job (JSON) and the inputs the bench wrote as raw little-endian float32/int32
# files, times the job's work as a PyTorch user would write it, writes the results the bench checks
# (products, parameter changes) next to the inputs, and prints one JSON object on stdout.
# It installs nothing and picks no BLAS itself: the bench puts OpenBLAS first on LD_LIBRARY_PATH;
# this script reports which BLAS library the process actually loaded and with how many threads.
#
# Dimensions: B = minibatch rows, D = visible, H = hidden, K = classes.

import ctypes
import json
import os
import re
import resource
import statistics
import sys
import time


def fail(message, code=3):
    print(json.dumps({"error": message}))
    sys.exit(code)


try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:  # a missing or broken install is a note for the bench, not a crash
    fail(f"cannot import torch: {type(e).__name__}: {e}")


def rss_kb(field):
    """VmRSS / VmHWM of this process in KiB (Linux), else getrusage's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def loaded_libraries():
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f if "/" in line.split()[-1]})
    except OSError:
        return []


def blas_info():
    """Which BLAS serves torch's sgemm_: Debian's torch calls the libblas.so.3 that the loader finds
    first (the alternatives link, or LD_LIBRARY_PATH), even though it also links libopenblas."""
    libs = loaded_libraries()
    libblas = next((p for p in libs if os.path.basename(p).startswith("libblas.so")), None)
    mkl = next((p for p in libs if "libmkl" in os.path.basename(p)), None)
    openblas = next((p for p in libs if os.path.basename(p).startswith("libopenblas")), None)
    built = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    info = {"libblas": libblas and os.path.realpath(libblas), "torchBlasInfo": built and built.group(1)}
    if libblas and "openblas" in info["libblas"]:
        info["name"] = "OpenBLAS"
    elif libblas:
        info["name"] = "reference BLAS"
    elif mkl:
        info["name"] = "MKL"
        info["libblas"] = mkl
    else:
        info["name"] = f"built in ({info['torchBlasInfo']})"
    if info["name"] == "OpenBLAS" and openblas:
        lib = ctypes.CDLL(openblas)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        info["openblasConfig"] = lib.openblas_get_config().decode()
        info["openblasCore"] = lib.openblas_get_corename().decode()
        info["openblasThreads"] = lib.openblas_get_num_threads()
    return info


def read_f32(directory, name, shape):
    return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype="<f4").reshape(shape))


def write_f32(directory, name, t):
    t.detach().contiguous().numpy().astype("<f4").tofile(os.path.join(directory, name))


def measure(fn, quick):
    """Median per-call milliseconds, with the budgets of bench/harness.ts measure() (tinybench's rule:
    run until both the time budget and the call count are reached)."""
    budget = 0.25 if quick else 1.5
    t0 = time.perf_counter()
    fn()
    slow = time.perf_counter() - t0 > budget / 3
    warm_calls, warm_time = (1, 0.0) if slow else (3, budget / 5)
    calls, limit = ((1 if quick else 3), 0.0) if slow else ((3 if quick else 10), budget)
    n, end = 0, time.perf_counter() + warm_time
    while n < warm_calls or time.perf_counter() < end:
        fn()
        n += 1
    samples, end = [], time.perf_counter() + limit
    while len(samples) < calls or time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return {"ms": statistics.median(samples), "samples": len(samples)}


# ---- gemm: C(M,N) = op(A) op(B), A and B as stored (transposes are views, never copies) --------------

def gemm_job(job):
    out = []
    for p in job["problems"]:
        M, K, N = p["M"], p["K"], p["N"]
        a = read_f32(job["dir"], p["a"], (K, M) if p["transA"] else (M, K))
        b = read_f32(job["dir"], p["b"], (N, K) if p["transB"] else (K, N))
        opa = a.t() if p["transA"] else a
        opb = b.t() if p["transB"] else b
        c = torch.empty(M, N)
        run = lambda: torch.mm(opa, opb, out=c)
        run()
        write_f32(job["dir"], p["c"], c)
        out.append({**measure(run, job["quick"]), "c": p["c"]})
    return out


# ---- training: the contractive epoch of bench/training.ts, with autograd and torch.optim.SGD ---------

def contractive_loss(x, W, bh, br, lam):
    """Binary cross-entropy of the reconstruction plus λ Σ_b Σ_k h'(u_bk)² ‖w_k‖², over B rows."""
    h = torch.sigmoid(torch.addmm(bh, x, W.t()))  # (B, H)
    a = torch.addmm(br, h, W)  # (B, D) decoder logits
    rec = F.binary_cross_entropy_with_logits(a, x, reduction="sum")
    pen = ((h * (1 - h)) ** 2 @ (W**2).sum(1)).sum()
    return (rec + lam * pen) / x.shape[0]


def training_job(job):
    N, D, H, B = job["N"], job["D"], job["H"], job["batch"]
    X = read_f32(job["dir"], job["X"], (N, D))
    W0 = read_f32(job["dir"], job["W"], (H, D))
    lam = job["contractive"]

    def model():
        params = [W0.clone().requires_grad_(), torch.zeros(H, requires_grad=True), torch.zeros(D, requires_grad=True)]
        return params, torch.optim.SGD(params, lr=job["lr"], momentum=job["momentum"])

    # The check: the losses before the first and the second step on rows 0..B-1, and W after two steps.
    params, opt = model()
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = contractive_loss(X[:B], *params, lam)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    write_f32(job["dir"], job["dWout"], params[0] - W0)

    params, opt = model()
    g = torch.Generator().manual_seed(1)

    def epoch():
        order = torch.randperm(N, generator=g)
        for s in range(0, job["steps"] * B, B):
            x = X[order[s:s + B]]
            opt.zero_grad()
            loss = contractive_loss(x, *params, lam)
            loss.backward()
            opt.step()
            loss.item()

    return {"losses": losses, "dW": job["dWout"], **epochs(epoch, job["runs"])}


def epochs(epoch, runs):
    """A warm-up call, then the median seconds of `runs` calls."""
    epoch()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        epoch()
        t.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(t), "runs": runs}


# ---- finetune: CSAE finetuning of bench/finetune.ts, the K energies in one einsum --------------------

def csae_loss(x, y, W, bh, br, C):
    """Mean −log softmax(E(x) + C)_y with E_k(x) = Σ_j softplus(w_kj·x + bh_kj) − ½‖x − br_k‖²."""
    u = torch.einsum("bd,khd->bkh", x, W) + bh  # (B, K, H)
    E = F.softplus(u).sum(2) - 0.5 * ((x[:, None, :] - br) ** 2).sum(2)  # (B, K)
    return F.cross_entropy(E + C, y)


def finetune_job(job):
    N, K, D, H, B = job["N"], job["K"], job["D"], job["H"], job["batch"]
    d = job["dir"]
    X = read_f32(d, job["X"], (N, D))
    y = torch.from_numpy(np.fromfile(os.path.join(d, job["y"]), dtype="<i4").astype("int64"))
    W0, bh0, br0 = read_f32(d, job["W"], (K, H, D)), read_f32(d, job["bh"], (K, H)), read_f32(d, job["br"], (K, D))

    def model():
        params = [t.clone().requires_grad_() for t in (W0, bh0, br0, torch.zeros(K))]
        return params, torch.optim.SGD(params, lr=job["lr"], momentum=job["momentum"])

    params, opt = model()
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = csae_loss(X[:B], y[:B], *params)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    write_f32(d, job["dWout"], params[0] - W0)
    write_f32(d, job["Cout"], params[3])

    params, opt = model()
    g = torch.Generator().manual_seed(1)

    def epoch():
        order = torch.randperm(N, generator=g)
        for s in range(0, N, B):
            rows = order[s:s + B]
            opt.zero_grad()
            loss = csae_loss(X[rows], y[rows], *params)
            loss.backward()
            opt.step()
            loss.item()

    epoch()  # warm-up, as bench/finetune.ts does for aescore
    t0 = time.perf_counter()
    for _ in range(job["epochs"]):
        epoch()
    seconds = time.perf_counter() - t0
    return {"losses": losses, "dW": job["dWout"], "C": job["Cout"], "seconds": seconds, "epochs": job["epochs"]}


JOBS = {"gemm": gemm_job, "training": training_job, "finetune": finetune_job, "info": lambda job: None}


def main():
    if len(sys.argv) != 2:
        fail("usage: torch_peer.py JOB.json", 2)
    with open(sys.argv[1]) as f:
        job = json.load(f)
    threads = job.get("threads", 1)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    before = rss_kb("VmRSS")
    result = JOBS[job["task"]](job)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY"),
        "blas": blas_info(),
        "result": result,
        "rssBeforeKb": before,
        "peakRssKb": rss_kb("VmHWM"),
    }))


main()
