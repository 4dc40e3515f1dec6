import numpy as np, sys
from sklearn.svm import SVC
from rect_proto import make
lo, hi, gap = map(int, sys.argv[1].split(','))
rng = np.random.default_rng(7)
Xtr, ytr = make(1200, rng, lo, hi, gap); Xte, yte = make(10000, rng, lo, hi, gap)
D = 2 * Xtr.var(0).sum()
out = []
for C in (1, 3, 10, 100):
    for s in (1, 1.5, 2, 3, 4, 6, 8):
        e = (SVC(C=C, gamma=s / D).fit(Xtr, ytr).predict(Xte) != yte).mean()
        out.append((e, C, s))
out.sort(); print(sys.argv[1], [(round(100*e,2), C, s) for e, C, s in out[:5]])
