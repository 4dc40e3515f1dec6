import numpy as np, sys
from convex_proto import half_planes, geom, is_convex_hull
from quick import quick
def pairwise_fails(m, both=False, sub=1):
    # DDA between every pair of set pixels: points p + t (q - p) / n, t = 0..n, n = max(|dx|, |dy|),
    # each rounded half up to a pixel; fails when one of those pixels is off the set.
    idx = np.nonzero(m)[0]
    x = idx % 28; y = idx // 28
    i, j = np.triu_indices(len(idx), 1)
    if both: i, j = np.concatenate([i, j]), np.concatenate([j, i])
    dx = x[j] - x[i]; dy = y[j] - y[i]; n = np.maximum(np.abs(dx), np.abs(dy))
    keep = n > 1
    i, j, dx, dy, n = i[keep], j[keep], dx[keep], dy[keep], n[keep]
    n = n * sub
    for t in range(1, 28 * sub):
        sel = t < n
        if not sel.any(): break
        xs = x[i[sel]] + np.floor((2 * t * dx[sel] + n[sel]) / (2 * n[sel])).astype(int)
        ys = y[i[sel]] + np.floor((2 * t * dy[sel] + n[sel]) / (2 * n[sel])).astype(int)
        if not m[ys * 28 + xs].all(): return True
    return False
def nonconvex(rng, test):
    while True:
        u = np.zeros(784, bool)
        for _ in range(rng.integers(2, 5)):
            while True:
                mm = half_planes(rng, geom(rng, 0.07, False), 'point')
                if mm.sum() >= 10: break
            u |= mm
        if not is_convex_hull(u): return u, 0
        if test.startswith('pair') and u.sum() < 784 and pairwise_fails(u, test == 'pair2', 4 if test == 'pair4' else 1): return u, 1
def convex(rng):
    while True:
        mm = half_planes(rng, geom(rng, 0.195, False), 'point')
        if mm.sum() >= 19: return mm
def make(n, rng, test):
    y = rng.integers(0, 2, n); X = np.zeros((n, 784)); flag = 0
    for k in range(n):
        if y[k]: X[k] = convex(rng)
        else:
            X[k], f = nonconvex(rng, test); flag += f
    return X, y, flag
if __name__ == "__main__":
    test = sys.argv[1]
    rng = np.random.default_rng(8)
    Xtr, ytr, f1 = make(6000, rng, test); Xva, yva, f2 = make(2000, rng, test); Xte, yte, f3 = make(5000, rng, test)
    lit = Xtr.sum(1)
    print(f"{test}: hull-convex but pairwise-failing non-convex examples: {f1}/{(ytr==0).sum()}; lit convex {lit[ytr==1].mean():.0f} non-convex {lit[ytr==0].mean():.0f}", flush=True)
    quick(Xtr, ytr, Xva, yva, Xte, yte, Cs=(100, 1000), Ss=(2, 4, 8), label=f"convex {test}")
