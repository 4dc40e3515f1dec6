import numpy as np, sys
ii = np.arange(784); CX = (ii % 28) + 0.5; CY = (ii // 28) + 0.5
def geom(rng, p, trials):
    k = rng.geometric(p)  # support 1, 2, ...
    return k if trials else k - 1
def half_planes(rng, k, geo):
    m = np.ones(784, bool)
    for _ in range(k):
        if geo == 'point':
            qx, qy = 28 * rng.random(), 28 * rng.random(); t = 2 * np.pi * rng.random()
            nx, ny = np.cos(t), np.sin(t)
        elif geo == 'two':
            ax, ay, bx, by = 28 * rng.random(4)
            nx, ny = -(by - ay), bx - ax
            if rng.random() < 0.5: nx, ny = -nx, -ny
            qx, qy = ax, ay
        elif geo.startswith('big'):
            f = float(geo[3:])  # point uniform in a square f times wider, same centre
            qx, qy = 14 + 28 * f * (rng.random() - 0.5), 14 + 28 * f * (rng.random() - 0.5); t = 2 * np.pi * rng.random()
            nx, ny = np.cos(t), np.sin(t)
        elif geo == 'hough':
            t = 2 * np.pi * rng.random(); r = 14 * np.sqrt(2) * (2 * rng.random() - 1)
            nx, ny = np.cos(t), np.sin(t); qx, qy = 14 + r * nx, 14 + r * ny
        m &= (CX - qx) * nx + (CY - qy) * ny >= 0
        if m.sum() == 0: break
    return m
def cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
def hull(pts):
    pts = sorted(pts)
    if len(pts) <= 2: return pts
    lo = []
    for p in pts:
        while len(lo) >= 2 and cross(lo[-2], lo[-1], p) <= 0: lo.pop()
        lo.append(p)
    up = []
    for p in reversed(pts):
        while len(up) >= 2 and cross(up[-2], up[-1], p) <= 0: up.pop()
        up.append(p)
    return lo[:-1] + up[:-1]
def is_convex_hull(m):
    idx = np.nonzero(m)[0]
    if len(idx) == 0: return True
    pts = [(int(i % 28), int(i // 28)) for i in idx]
    h = hull(pts)
    X = ii % 28; Y = ii // 28
    inside = np.ones(784, bool)
    if len(h) == 1:
        inside = (X == h[0][0]) & (Y == h[0][1])
    else:
        for k in range(len(h)):
            a, b = h[k], h[(k + 1) % len(h)]
            inside &= (b[0] - a[0]) * (Y - a[1]) - (b[1] - a[1]) * (X - a[0]) >= 0
        if len(h) == 2:
            inside &= (X >= min(a[0], b[0])) & (X <= max(a[0], b[0])) & (Y >= min(a[1], b[1])) & (Y <= max(a[1], b[1]))
    return not np.any(inside & ~m)
def shape(rng, convex, geo, trials, pc=0.195, pp=0.07, minc=19, minp=10, parts=(2, 4)):
    if convex:
        while True:
            m = half_planes(rng, geom(rng, pc, trials), geo)
            if m.sum() >= minc: return m
    while True:
        u = np.zeros(784, bool)
        for _ in range(rng.integers(parts[0], parts[1] + 1)):
            while True:
                m = half_planes(rng, geom(rng, pp, trials), geo)
                if m.sum() >= minp: break
            u |= m
        if not is_convex_hull(u): return u
def make(n, rng, **kw):
    y = rng.integers(0, 2, n)
    X = np.stack([shape(rng, bool(c), **kw) for c in y]).astype(np.float64)
    return X, y
if __name__ == "__main__":
    rng = np.random.default_rng(3)
    for geo in sys.argv[1].split(','):
        for trials in (False, True):
            X, y = make(1500, rng, geo=geo, trials=trials)
            lit = X.sum(1)
            print(f"{geo:8s} trials={trials!s:5s} convex {lit[y==1].mean():.0f} (blank {np.mean(lit[y==1]==784):.2f}) nonconvex {lit[y==0].mean():.0f}", flush=True)
