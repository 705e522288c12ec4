"""The bench's peer: the probes of Santurkar et al. written by hand in NumPy (float32, OpenBLAS), as a user
might write them instead of using BatchNorm Lens. Layers are channels-last like the engine's (Conv2D kernels
[kh, kw, in, out], Dense kernels [in, out], BatchNorm over every axis but the last with the biased variance
and eps 1e-3), so the engine's weights can be fed in unchanged.

  numpy_probe.py bench --workload mlp|cnn [--bn] [--steps N]   time the workload; prints one JSON line
  numpy_probe.py check MANIFEST.json                           one probed step on the engine's weights and
                                                               batch; prints loss, ℓ(η), d(η), β as JSON

A probed step is the gradient at the weights x plus, for every η, the loss and gradient at x − η·g."""
import json
import sys
import time

import numpy as np

BN_EPS = 1e-3


# ----------------------------------------------------------------------------- layers
# Each layer: forward(p, h) -> (out, saved); backward(p, saved, d) -> (d_in, grads). `p` is a dict of arrays.

def dense_fwd(p, h):
    z = h @ p["kernel"]
    if "bias" in p:
        z += p["bias"]
    return z, h


def dense_bwd(p, h, d, need_input):
    g = {"kernel": h.T @ d}
    if "bias" in p:
        g["bias"] = d.sum(0)
    return (d @ p["kernel"].T if need_input else None), g


def patches(x, kh, kw):
    """x [B, H, W, C], 'same' padding, stride 1 -> [B·H·W, kh·kw·C] in the kernel's (kh, kw, C) order."""
    b, hgt, wid, c = x.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # [B, H, W, C, kh, kw]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(b * hgt * wid, kh * kw * c)


def conv_fwd(p, h):
    kh, kw, ci, co = p["kernel"].shape
    cols = patches(h, kh, kw)
    z = cols @ p["kernel"].reshape(kh * kw * ci, co)
    if "bias" in p:
        z += p["bias"]
    return z.reshape(*h.shape[:3], co), (cols, h.shape)


def conv_bwd(p, saved, d, need_input):
    cols, shape = saved
    kh, kw, ci, co = p["kernel"].shape
    d2 = d.reshape(-1, co)
    # (d2ᵀ·cols)ᵀ rather than colsᵀ·d2: OpenBLAS splits the long inner dimension of the latter badly (up to
    # 10× slower on the first layer, whose cols are [B·H·W, 9]).
    g = {"kernel": (d2.T @ cols).T.reshape(kh, kw, ci, co)}
    if "bias" in p:
        g["bias"] = d2.sum(0)
    if not need_input:
        return None, g
    b, hgt, wid, _ = shape
    dcols = (d2 @ p["kernel"].reshape(kh * kw * ci, co).T).reshape(b, hgt, wid, kh, kw, ci)
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    dxp = np.zeros((b, hgt + kh - 1, wid + kw - 1, ci), np.float32)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + hgt, j:j + wid, :] += dcols[:, :, :, i, j, :]
    return dxp[:, ph:ph + hgt, pw:pw + wid, :], g


def pool_fwd(p, h):
    """2×2 max pooling, stride 2, 'valid' (odd edges dropped)."""
    b, hgt, wid, c = h.shape
    h2, w2 = hgt // 2, wid // 2
    win = h[:, :2 * h2, :2 * w2, :].reshape(b, h2, 2, w2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(b, h2, w2, c, 4)
    arg = win.argmax(-1)  # the first maximum takes the whole gradient, as in the engine
    return np.take_along_axis(win, arg[..., None], -1)[..., 0], (arg, h.shape)


def pool_bwd(p, saved, d, need_input):
    arg, shape = saved
    b, hgt, wid, c = shape
    h2, w2 = hgt // 2, wid // 2
    onehot = (arg[..., None] == np.arange(4)).astype(np.float32) * d[..., None]  # [B, h2, w2, C, 4]
    dx = np.zeros(shape, np.float32)
    dx[:, :2 * h2, :2 * w2, :] = onehot.reshape(b, h2, w2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(b, 2 * h2, 2 * w2, c)
    return dx, {}


def bn_fwd(p, h):
    axes = tuple(range(h.ndim - 1))
    mu = h.mean(axes)
    xc = h - mu
    inv = 1 / np.sqrt((xc * xc).mean(axes) + BN_EPS)
    xh = xc * inv
    return p["gamma"] * xh + p["beta"], (xh, inv)


def bn_bwd(p, saved, d, need_input):
    xh, inv = saved
    axes = tuple(range(d.ndim - 1))
    g = {"gamma": (d * xh).sum(axes), "beta": d.sum(axes)}
    dxh = d * p["gamma"]
    return inv * (dxh - dxh.mean(axes) - xh * (dxh * xh).mean(axes)), g


def relu_fwd(p, h):
    return np.maximum(h, 0), h > 0


def relu_bwd(p, mask, d, need_input):
    return d * mask, {}


def flatten_fwd(p, h):
    return h.reshape(h.shape[0], -1), h.shape


def flatten_bwd(p, shape, d, need_input):
    return d.reshape(shape), {}


LAYERS = {
    "dense": (dense_fwd, dense_bwd),
    "conv": (conv_fwd, conv_bwd),
    "pool": (pool_fwd, pool_bwd),
    "bn": (bn_fwd, bn_bwd),
    "relu": (relu_fwd, relu_bwd),
    "flatten": (flatten_fwd, flatten_bwd),
}


# ----------------------------------------------------------------------------- loss, gradient, probes

def loss_and_grad(kinds, W, x, y):
    saved, h = [], x
    for kind, p in zip(kinds, W):
        h, s = LAYERS[kind][0](p, h)
        saved.append(s)
    n = x.shape[0]
    m = h.max(1, keepdims=True)
    e = np.exp(h - m)
    s = e.sum(1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - h[np.arange(n), y]))
    d = e / s
    d[np.arange(n), y] -= 1
    d /= n
    grads = [None] * len(kinds)
    first = next(i for i, k in enumerate(kinds) if k in ("dense", "conv"))
    for i in range(len(kinds) - 1, -1, -1):
        d, grads[i] = LAYERS[kinds[i]][1](W[i], saved[i], d, i > first)
        if d is None:
            break
    for i in range(len(kinds)):
        if grads[i] is None:
            grads[i] = {}
    return loss, grads


def axpy(W, G, a):
    return [{k: v + np.float32(a) * G[i][k] for k, v in w.items()} for i, w in enumerate(W)]


def norm(G):
    return float(np.sqrt(sum(float(np.vdot(v, v)) for g in G for v in g.values())))


def distance(A, B):
    return float(np.sqrt(sum(float(np.vdot(A[i][k] - B[i][k], A[i][k] - B[i][k])) for i in range(len(A)) for k in A[i])))


def probe(kinds, W, x, y, etas):
    """ℓ(η) = L(x − η·g), d(η) = ‖∇L(x − η·g) − g‖, β = max d(η) / (η‖g‖)."""
    loss, g = loss_and_grad(kinds, W, x, y)
    gn = norm(g)
    L, D = [], []
    for eta in etas:
        le, ge = loss_and_grad(kinds, axpy(W, g, -eta), x, y)
        L.append(le)
        D.append(distance(ge, g))
    beta = max(d / (eta * gn) for d, eta in zip(D, etas))
    return loss, g, gn, L, D, beta


# ----------------------------------------------------------------------------- the bench workloads

def glorot(rng, shape, fan_in, fan_out):
    lim = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, shape).astype(np.float32)


def mlp(rng, bn):
    """784-512-512-512-10, as bench/mlp-784-512x3-10.json; with --bn, BatchNorm before each hidden ReLU, bias dropped."""
    kinds, W, fan = [], [], 784
    for _ in range(3):
        kinds.append("dense")
        W.append({"kernel": glorot(rng, (fan, 512), fan, 512)} | ({} if bn else {"bias": np.zeros(512, np.float32)}))
        if bn:
            kinds.append("bn")
            W.append({"gamma": np.ones(512, np.float32), "beta": np.zeros(512, np.float32)})
        kinds.append("relu")
        W.append({})
        fan = 512
    kinds.append("dense")
    W.append({"kernel": glorot(rng, (512, 10), 512, 10), "bias": np.zeros(10, np.float32)})
    return kinds, W, (784,)


def cnn(rng, bn):
    """examples/vgg-mnist.json: (conv3×3 'same' → [BN] → ReLU → maxpool 2×2) with 16, 32, 32 filters, flatten, dense 64 → [BN] → ReLU, dense 10."""
    kinds, W, ci = [], [], 1
    for co in (16, 32, 32):
        kinds.append("conv")
        W.append({"kernel": glorot(rng, (3, 3, ci, co), 9 * ci, 9 * co)} | ({} if bn else {"bias": np.zeros(co, np.float32)}))
        if bn:
            kinds.append("bn")
            W.append({"gamma": np.ones(co, np.float32), "beta": np.zeros(co, np.float32)})
        kinds += ["relu", "pool"]
        W += [{}, {}]
        ci = co
    kinds.append("flatten")
    W.append({})
    fan = 3 * 3 * 32
    kinds.append("dense")
    W.append({"kernel": glorot(rng, (fan, 64), fan, 64)} | ({} if bn else {"bias": np.zeros(64, np.float32)}))
    if bn:
        kinds.append("bn")
        W.append({"gamma": np.ones(64, np.float32), "beta": np.zeros(64, np.float32)})
    kinds.append("relu")
    W.append({})
    kinds.append("dense")
    W.append({"kernel": glorot(rng, (64, 10), 64, 10), "bias": np.zeros(10, np.float32)})
    return kinds, W, (28, 28, 1)


WORKLOADS = {"mlp": (mlp, 128), "cnn": (cnn, 64)}


def bench(workload, bn, steps, lr=0.1, probes=8, seed=0):
    build, batch = WORKLOADS[workload]
    rng = np.random.default_rng(seed)
    kinds, W, shape = build(rng, bn)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    etas = [float(e) for e in np.linspace(0.5 * lr, 4 * lr, probes)]
    for _ in range(2):  # warm-up, as the engine's
        W = axpy(W, probe(kinds, W, x, y, etas)[1], -lr)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss, g, *_ = probe(kinds, W, x, y, etas)
        W = axpy(W, g, -lr)
    probed, probed_cpu = (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps
    t1 = time.perf_counter()
    for _ in range(steps):
        loss, g = loss_and_grad(kinds, W, x, y)
        W = axpy(W, g, -lr)
    train = (time.perf_counter() - t1) / steps
    print(json.dumps({"peer": "numpy", "workload": workload, "bn": bn, "ms_per_probed_step": probed * 1e3,
                      "cpu_ms_per_probed_step": probed_cpu * 1e3, "ms_per_train_step": train * 1e3, "final_loss": loss}))


def check(manifest_path):
    """The engine's weights and batch in, one probed step's numbers out. The manifest lists the layers
    ({"kind", "params": {role: [offset, shape]}}), x, y and η, with offsets (in float32 elements) into the
    binary file beside it (`data`)."""
    with open(manifest_path) as f:
        m = json.load(f)
    blob = np.fromfile(m["data"], dtype=np.float32)

    def arr(ref):
        off, shape = ref
        return blob[off:off + int(np.prod(shape))].reshape(shape).copy()

    kinds = [l["kind"] for l in m["layers"]]
    W = [{role: arr(ref) for role, ref in l.get("params", {}).items()} for l in m["layers"]]
    x = arr(m["x"])
    y = arr(m["y"]).astype(np.int64)
    loss, _, gn, L, D, beta = probe(kinds, W, x, y, m["etas"])
    print(json.dumps({"loss": loss, "gradNorm": gn, "lossAtEta": L, "gradChange": D, "beta": beta}))


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1])
    if argv and argv[0] == "bench":
        opt = lambda name, default: argv[argv.index(name) + 1] if name in argv else default
        workload = opt("--workload", "mlp")
        if workload not in WORKLOADS:
            sys.exit(f"numpy_probe.py: --workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")
        return bench(workload, "--bn" in argv, int(opt("--steps", "20")))
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
