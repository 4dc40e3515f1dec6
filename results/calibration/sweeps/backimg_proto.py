import numpy as np, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import svm
from quick import quick
from bg import patch, IMGS
def load(name, split, n=None):
    X, y, _ = svm.load_split(DATA, name, split)
    return (X[:n], y[:n]) if n else (X, y)
def back(X, rng, min_std):
    out = X.copy()
    for i in range(len(X)):
        p, _ = patch(rng, min_std)
        out[i] = np.maximum(out[i], p.reshape(-1))
    return out
DATA = sys.argv[3] if len(sys.argv) > 3 else "/tmp/aescore-sets"
if __name__ == "__main__":
    src = sys.argv[1]; min_std = float(sys.argv[2])
    rng = np.random.default_rng(5)
    Xtr, ytr = load(src, 'train'); Xva, yva = load(src, 'valid'); Xte, yte = load(src, 'test', 5000)
    quick(back(Xtr, rng, min_std), ytr, back(Xva, rng, min_std), yva, back(Xte, rng, min_std), yte, Cs=(1, 10), Ss=(2, 4), label=f"{src} back-image min_std {min_std}")
