import numpy as np, os, time, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from sklearn.svm import SVC
def quick(Xtr, ytr, Xva, yva, Xte, yte, Cs=(1,10,100), Ss=(1,2,4), label=''):
    D = float(2 * Xtr.var(axis=0).sum())
    best = None
    t0 = time.time()
    res = {}
    for C in Cs:
        for s in Ss:
            m = SVC(kernel='rbf', C=C, gamma=s / D, cache_size=1000).fit(Xtr, ytr)
            e = (m.predict(Xva) != yva).mean()
            res[(C, s)] = e
            if best is None or e < best[0]: best = (e, C, s, m)
    e, C, s, m = best
    te = (m.predict(Xte) != yte).mean()
    print(f"{label}: D={D:.1f} best C={C} s={s} valid {100*e:.2f}% test {100*te:.2f}% ({len(yte)} rows) [{time.time()-t0:.0f}s] grid " +
          " ".join(f"{c},{s}:{100*v:.1f}" for (c, s), v in res.items()), flush=True)
    return te
