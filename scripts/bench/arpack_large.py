#!/usr/bin/python3
"""SciPy ARPACK on large conv layers for `npm run bench -- --large --arpack`.

For each layer of the manifest (weights written by src/bench/large.ts): eigsh on AᵀA, whose
products are a float32 PyTorch conv2d and its transpose (zero padding, stride 1), to the relative
accuracy tol; prints one JSON line per layer: seconds, products (forward+adjoint pairs), sigma.
Uses torch's default threads (the machine's cores), like the engine's comparison runs.
"""
import json
import sys
import time

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh


def main() -> None:
    manifest = json.load(open(sys.argv[1]))
    tol = float(sys.argv[2])
    for layer in manifest:
        w = np.fromfile(layer["file"], dtype=np.float32).reshape(layer["cout"], layer["cin"], layer["k"], layer["k"])
        weight = torch.from_numpy(w)
        pad = (layer["k"] - 1) // 2
        shape = (1, layer["cin"], layer["size"], layer["size"])
        n = int(np.prod(shape))
        products = [0]

        def gram(v: np.ndarray) -> np.ndarray:
            products[0] += 1
            x = torch.from_numpy(np.asarray(v, dtype=np.float32).reshape(shape))
            with torch.no_grad():
                y = torch.nn.functional.conv2d(x, weight, padding=pad)
                back = torch.nn.functional.conv_transpose2d(y, weight, padding=pad)
            return back.reshape(-1).numpy().astype(np.float64)

        op = LinearOperator((n, n), matvec=gram, dtype=np.float64)
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        value = eigsh(op, k=1, which="LA", tol=tol, ncv=20, v0=rng.standard_normal(n), return_eigenvectors=False)[0]
        seconds = time.perf_counter() - started
        print(json.dumps({"name": layer["name"], "seconds": seconds, "products": products[0], "sigma": float(np.sqrt(value))}), flush=True)


if __name__ == "__main__":
    main()
