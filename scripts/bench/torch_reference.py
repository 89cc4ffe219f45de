"""Reference numbers for `npm run bench`, from PyTorch and SciPy in float64.

For every layer in the manifest the benchmark wrote, prints one JSON line with:
  exact:       sigma_1 from ARPACK (scipy.sparse.linalg.svds) on the float64 operator, tol 1e-12
  torch_power: a plain PyTorch power iteration (float32, the layer's own conv and its autograd
               adjoint) run until it is within `target` TRUE relative error of `exact`; its
               products, its seconds, and its median step time.
Usage: python3 torch_reference.py MANIFEST.json TARGET
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse.linalg import LinearOperator, svds


def conv_ops(layer, weight, dtype):
    w = torch.from_numpy(weight).to(dtype)
    cin = layer["cin"]
    size = layer["size"]
    shape = (1, cin, size, size)
    stride, pad, groups = layer["stride"], layer["pad"], layer["groups"]

    def forward(x):
        return F.conv2d(x, w, stride=stride, padding=pad, groups=groups)

    with torch.no_grad():
        out_shape = forward(torch.zeros(shape, dtype=dtype)).shape

    def adjoint(y):
        return F.conv_transpose2d(
            y, w, stride=stride, padding=pad, groups=groups,
            output_padding=tuple(
                shape[2 + i] - ((out_shape[2 + i] - 1) * stride - 2 * pad + w.shape[2 + i])
                for i in range(2)
            ),
        )

    return shape, tuple(out_shape), forward, adjoint


def dense_ops(layer, weight, dtype):
    w = torch.from_numpy(weight).to(dtype)  # [in, out]
    return (1, w.shape[0]), (1, w.shape[1]), (lambda x: x @ w), (lambda y: y @ w.T)


def operators(layer, weight, dtype):
    return conv_ops(layer, weight, dtype) if layer["type"] == "conv" else dense_ops(layer, weight, dtype)


def exact_sigma(layer, weight):
    shape, out_shape, forward, adjoint = operators(layer, weight, torch.float64)
    n, m = int(np.prod(shape)), int(np.prod(out_shape))

    def matvec(v):
        with torch.no_grad():
            return forward(torch.from_numpy(np.ascontiguousarray(v).reshape(shape))).reshape(-1).numpy()

    def rmatvec(v):
        with torch.no_grad():
            return adjoint(torch.from_numpy(np.ascontiguousarray(v).reshape(out_shape))).reshape(-1).numpy()

    op = LinearOperator((m, n), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)
    rng = np.random.default_rng(12345)
    s = svds(op, k=1, tol=1e-12, v0=rng.standard_normal(min(m, n)), return_singular_vectors=False)
    return float(s[0])


def torch_power(layer, weight, exact, target, max_iter=20000):
    shape, _, forward, adjoint = operators(layer, weight, torch.float32)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g)
    x /= x.norm()
    steps = []
    started = time.perf_counter()
    with torch.no_grad():
        for it in range(1, max_iter + 1):
            t = time.perf_counter()
            y = forward(x)
            sigma = float(y.norm())
            x = adjoint(y)
            x /= x.norm()
            steps.append(time.perf_counter() - t)
            if abs(sigma - exact) / exact <= target:
                break
    seconds = time.perf_counter() - started
    return {"iterations": it, "seconds": seconds, "step_ms": 1000 * float(np.median(steps[: max(10, len(steps))])),
            "sigma": sigma, "reached": abs(sigma - exact) / exact <= target}


def main():
    manifest = json.load(open(sys.argv[1]))
    target = float(sys.argv[2])
    for layer in manifest["layers"]:
        weight = np.fromfile(layer["weightFile"], dtype="<f4").reshape(layer["weightDims"])
        exact = exact_sigma(layer, weight)
        power = torch_power(layer, weight, exact, target)
        print(json.dumps({"name": layer["name"], "exact": exact, "torch_power": power, "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
