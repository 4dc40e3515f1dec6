import numpy as np, os
DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../src/datasets/backgrounds')
NAMES = ["ascent", "astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "face",
  "grass", "gravel", "hubble_deep_field", "ihc", "moon", "motorcycle_left", "page", "retina", "rocket", "text"]
def read_pgm(p):
    b = open(p, 'rb').read()
    parts = []; i = 2
    while len(parts) < 3:
        while b[i:i+1].isspace(): i += 1
        if b[i:i+1] == b'#':
            while b[i:i+1] != b'\n': i += 1
            continue
        j = i
        while not b[j:j+1].isspace(): j += 1
        parts.append(int(b[i:j])); i = j
    w, h, mx = parts
    return np.frombuffer(b[i+1:], np.uint8).reshape(h, w).astype(np.float64) / mx
IMGS = [read_pgm(os.path.join(DIR, n + '.pgm')) for n in NAMES]
def patch(rng, min_std=0.05, imgs=None, not_image=-1):
    imgs = imgs or IMGS
    while True:
        k = rng.integers(len(imgs)) if not_image < 0 else (not_image + 1 + rng.integers(len(imgs) - 1)) % len(imgs)
        im = imgs[k]
        y = rng.integers(im.shape[0] - 27); x = rng.integers(im.shape[1] - 27)
        p = im[y:y+28, x:x+28]
        if p.std() >= min_std: return p, k
