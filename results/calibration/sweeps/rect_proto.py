import numpy as np, sys
from quick import quick
def make(n, rng, lo, hi, gap, fill=False, area=None):
    X = np.zeros((n, 28, 28)); y = np.zeros(n, int)
    for i in range(n):
        while True:
            w = rng.integers(lo, hi + 1); h = rng.integers(lo, hi + 1)
            if abs(w - h) < gap: continue
            if area and not (area[0] <= w * h <= area[1]): continue
            break
        x0 = rng.integers(0, 28 - w + 1); y0 = rng.integers(0, 28 - h + 1)
        X[i, y0, x0:x0 + w] = 1; X[i, y0 + h - 1, x0:x0 + w] = 1
        X[i, y0:y0 + h, x0] = 1; X[i, y0:y0 + h, x0 + w - 1] = 1
        y[i] = int(w > h)
    return X.reshape(n, -1), y
for spec in (sys.argv[1:] if __name__ == "__main__" else []):
    lo, hi, gap = map(int, spec.split(','))
    rng = np.random.default_rng(1)
    Xtr, ytr = make(1000, rng, lo, hi, gap); Xva, yva = make(200, rng, lo, hi, gap); Xte, yte = make(20000, rng, lo, hi, gap)
    quick(Xtr, ytr, Xva, yva, Xte, yte, Cs=(1, 10, 100), Ss=(1, 2, 4, 8), label=f"rect [{lo},{hi}] gap>={gap}")
