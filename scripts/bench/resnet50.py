"""ResNet-50 / ResNet-18 for `npm run bench -- --resnet50|--resnet18`: exports a randomly initialised
ResNet (plain PyTorch, the torchvision architecture, BN with non-trivial statistics) to ONNX, then
for every conv and linear layer of the exported graph computes

  exact: σ1 in float64 with ARPACK (scipy.sparse.linalg.svds), tol 1e-10, on the layer's real
         input shape (weights read back from the ONNX initializers, so BN folding is included);
  torch: PyTorch power iteration in float32 (the layer's conv and its adjoint conv_transpose),
         stopped when within TARGET true relative error of `exact` (--stop=oracle, the default), or
         when the relative change of σ between two iterations is ≤ 1e-6 (--stop=relchange, what a
         real script without the exact answer does): iterations, seconds and its true error.

Results are cached in .bench/<arch>.reference.json keyed by the layer's weights' hash.
Usage: python3 resnet50.py OUT_DIR TARGET [--arch=resnet50|resnet18] [--stop=oracle|relchange]
       [--torch-threads=N] [--export-only]
"""
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.sparse.linalg import LinearOperator, svds

torch.manual_seed(50)


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for width, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            for i in range(2):
                layers.append(BasicBlock(cin, width, stride if i == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
            for i in range(blocks):
                layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(arch):
    model = ResNet18() if arch == "resnet18" else ResNet50()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.3, 1.0)
            m.bias.data.uniform_(-0.1, 0.1)
    return model.eval()


def conv_layers(model):
    """(name, module-like params, folded weight) for every conv/linear as the exporter folds BN."""
    shapes = {}
    hooks = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(inp[0].shape))))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    modules = dict(model.named_modules())
    result = []
    for name, shape in shapes.items():
        m = modules[name]
        w = m.weight.detach().double()
        bn = None
        parent, _, leaf = name.rpartition(".")
        if isinstance(m, nn.Conv2d):
            if leaf.startswith("conv"):
                bn = modules.get((parent + "." if parent else "") + "bn" + leaf[4:])
            elif leaf == "0" and parent.endswith("down"):
                bn = modules[parent + ".1"]
        if bn is not None:
            scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
            w = w * scale.reshape(-1, 1, 1, 1)
        result.append((name, m, w, shape))
    return result


def operators(m, w, shape, dtype):
    w = w.to(dtype)
    if isinstance(m, nn.Linear):
        return (lambda x: x @ w.T), (lambda y: y @ w), (1, w.shape[1]), (1, w.shape[0])
    fwd = lambda x: F.conv2d(x, w, stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)
    with torch.no_grad():
        out_shape = tuple(fwd(torch.zeros(shape, dtype=dtype)).shape)
    op = [shape[2 + i] - ((out_shape[2 + i] - 1) * m.stride[i] - 2 * m.padding[i] + w.shape[2 + i]) for i in range(2)]
    adj = lambda y: F.conv_transpose2d(y, w, stride=m.stride, padding=m.padding, output_padding=tuple(op), groups=m.groups)
    return fwd, adj, shape, out_shape


def exact_sigma(m, w, shape):
    fwd, adj, ins, outs = operators(m, w, shape, torch.float64)
    n, k = int(np.prod(ins)), int(np.prod(outs))
    mv = lambda v: fwd(torch.from_numpy(np.ascontiguousarray(v).reshape(ins))).reshape(-1).numpy()
    rmv = lambda v: adj(torch.from_numpy(np.ascontiguousarray(v).reshape(outs))).reshape(-1).numpy()
    with torch.no_grad():
        op = LinearOperator((k, n), matvec=mv, rmatvec=rmv, dtype=np.float64)
        v0 = np.random.default_rng(1).standard_normal(min(n, k))
        return float(svds(op, k=1, tol=1e-10, v0=v0, return_singular_vectors=False)[0])


def torch_power(m, w, shape, exact, target, cap=20000):
    fwd, adj, ins, _ = operators(m, w, shape, torch.float32)
    x = torch.randn(ins, generator=torch.Generator().manual_seed(0))
    x /= x.norm()
    t0 = time.perf_counter()
    with torch.no_grad():
        for it in range(1, cap + 1):
            y = fwd(x)
            sigma = float(y.norm())
            if abs(sigma - exact) / exact <= target:
                break
            x = adj(y)
            x /= x.norm()
    return {"iterations": it, "seconds": time.perf_counter() - t0, "reached": abs(sigma - exact) / exact <= target}


def torch_power_relchange(m, w, shape, exact, target, change=1e-6, cap=20000):
    """Power iteration as a script without the exact answer runs it: stop at a relative change ≤ 1e-6."""
    fwd, adj, ins, _ = operators(m, w, shape, torch.float32)
    x = torch.randn(ins, generator=torch.Generator().manual_seed(0))
    x /= x.norm()
    previous = None
    t0 = time.perf_counter()
    with torch.no_grad():
        for it in range(1, cap + 1):
            y = fwd(x)
            sigma = float(y.norm())
            if previous is not None and abs(sigma - previous) <= change * sigma:
                break
            previous = sigma
            x = adj(y)
            x /= x.norm()
    error = abs(sigma - exact) / exact
    return {"iterations": it, "seconds": time.perf_counter() - t0, "reached": error <= target, "error": error}


def main():
    out_dir, target = sys.argv[1], float(sys.argv[2])
    arch, stop = "resnet50", "oracle"
    # --torch-threads=N: PyTorch's intra-op threads (default: its own choice, 1 on these machines).
    for arg in sys.argv[3:]:
        if arg.startswith("--torch-threads="):
            torch.set_num_threads(int(arg.split("=", 1)[1]))
        if arg.startswith("--arch="):
            arch = arg.split("=", 1)[1]
        if arg.startswith("--stop="):
            stop = arg.split("=", 1)[1]
    os.makedirs(out_dir, exist_ok=True)
    model = build(arch)
    onnx_path = os.path.join(out_dir, f"{arch}.onnx")
    if not os.path.exists(onnx_path):
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), onnx_path, opset_version=13, input_names=["input"], output_names=["logits"])
    print(json.dumps({"onnx": onnx_path, "bytes": os.path.getsize(onnx_path)}), flush=True)
    if "--export-only" in sys.argv:
        return
    cache_path = os.path.join(out_dir, f"{arch}.reference.json")
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    for name, m, w, shape in conv_layers(model):
        key = hashlib.sha1(w.numpy().tobytes() + repr(shape).encode()).hexdigest()
        if key not in cache:
            cache[key] = exact_sigma(m, w, shape)
            json.dump(cache, open(cache_path, "w"))
        exact = cache[key]
        power = torch_power_relchange(m, w, shape, exact, target) if stop == "relchange" else torch_power(m, w, shape, exact, target)
        print(json.dumps({"module": name, "inputShape": shape, "weightShape": list(w.shape), "exact": exact, "torch": power,
                          "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
