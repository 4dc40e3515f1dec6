import numpy as np, sys
from quick import quick
from bg import patch
def rect(rng, lo, hi, gap, area):
    while True:
        w = rng.integers(lo, hi + 1); h = rng.integers(lo, hi + 1)
        if abs(w - h) < gap: continue
        if area and not (area[0] <= w * h <= area[1]): continue
        return w, h
def make(n, rng, lo, hi, gap, area, min_std):
    X = np.zeros((n, 28, 28)); y = np.zeros(n, int)
    for i in range(n):
        w, h = rect(rng, lo, hi, gap, area)
        x0 = rng.integers(0, 28 - w + 1); y0 = rng.integers(0, 28 - h + 1)
        out, k = patch(rng, min_std); inn, _ = patch(rng, min_std, not_image=k)
        X[i] = out; X[i, y0:y0+h, x0:x0+w] = inn[y0:y0+h, x0:x0+w]
        y[i] = int(w > h)
    return X.reshape(n, -1), y
if __name__ == "__main__":
    lo, hi, gap = map(int, sys.argv[1].split(','))
    area = tuple(map(int, sys.argv[2].split(','))) if sys.argv[2] != '-' else None
    min_std = float(sys.argv[3]); ntr = int(sys.argv[4])
    rng = np.random.default_rng(11)
    Xtr, ytr = make(ntr, rng, lo, hi, gap, area, min_std); Xva, yva = make(2000, rng, lo, hi, gap, area, min_std); Xte, yte = make(5000, rng, lo, hi, gap, area, min_std)
    quick(Xtr, ytr, Xva, yva, Xte, yte, Cs=(1, 10), Ss=(2, 4, 8), label=f"recti {sys.argv[1:]}")
