"""PyTorch float64 references for `bnlens probe` on the Python model files in this folder.

Run with Debian's interpreter, which has torch:  /usr/bin/python3 test/reference/pytorch/generate.py [OUT_DIR]
For every case it builds the model from its .py file (plain import: these are our own test files), draws
weights with torch's default initializers from a fixed seed (BatchNorm affine and running statistics are
perturbed so their mapping is exercised), rounds them to float32 and writes them as <case>.safetensors
(by the format's specification: 8-byte little-endian header length, JSON header with dtype/shape/
data_offsets, raw little-endian data — Debian has no python3-safetensors), writes a batch as <case>.npz
(x float32 NCHW or [n, F], y int64 class ids), and computes in float64, in training mode (BatchNorm on
batch statistics), exactly the measurements of `bnlens probe`:
  loss L, ‖g‖, ℓ(η) = L(x − ηg), d(η) = ‖∇L(x − ηg) − g‖, β = max_η d(η)/(η‖g‖),
  ICS per Linear/Conv2d (module path): G = ∂L/∂W_i, G' = ∂L/∂W_i after every parameter of the modules
  forward applied before module i took the step w − lr·∂L/∂w;  ‖G − G'‖ and cos∠(G, G').
and sum(p.numel() for p in model.parameters()). Everything goes to references.json.
"""
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ETA = [0.05, 0.1, 0.2]
ICS_LR = 0.1
N = 16

CASES = [
    # name, model choice (None = the file's one model), input shape per example, classes
    ('seq_bn1d', 'model', [20], 5),
    ('functional', 'Net', [12], 4),
    ('conv_stride_pad', 'StridedConvNet', [3, 9, 9], 3),
    ('maxpool', 'PoolNet', [2, 10, 10], 3),
    ('flatten_linear', 'FlattenNet', [3, 6, 5], 3),
    ('residual', 'TinyResNet', [3, 8, 8], 4),
    ('builder', 'make_model', [10], 3),
    ('mobile_blocks', 'MobileBlocks', [4, 8, 7], 3),
    ('pad_upsample', 'PadUpNet', [2, 6, 7], 3),
]


def load(name, choice):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + '.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    obj = getattr(mod, choice)
    return obj if isinstance(obj, nn.Module) else obj()


def save_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for key in sorted(tensors):
        arr = np.ascontiguousarray(tensors[key].detach().cpu().numpy().astype('<f4'))
        data = arr.tobytes()
        header[key] = {'dtype': 'F32', 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * (-len(raw) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for c in chunks:
            f.write(c)


def applied_order(model, x):
    """Leaf modules with parameters, in the order forward applies them (the engine's model order)."""
    order, hooks = [], []
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            hooks.append(m.register_forward_hook(lambda mod, i, o, name=name: order.append(name)))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    seen = []
    for n in order:
        if n not in seen:
            seen.append(n)
    return seen


def measure(model, x, y):
    params = dict(model.named_parameters())
    names = list(params)

    def loss_and_grads(values):
        for n in names:
            params[n].data = values[n]
        model.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        return loss.item(), {n: params[n].grad.detach().clone() for n in names}

    base = {n: params[n].detach().clone() for n in names}
    loss, g = loss_and_grads(base)
    gnorm = torch.sqrt(sum((g[n] ** 2).sum() for n in names)).item()
    loss_at, change = [], []
    for eta in ETA:
        l2, g2 = loss_and_grads({n: base[n] - eta * g[n] for n in names})
        loss_at.append(l2)
        change.append(torch.sqrt(sum(((g2[n] - g[n]) ** 2).sum() for n in names)).item())
    beta = max(d / (eta * gnorm) for d, eta in zip(change, ETA))

    order = applied_order(model, x)
    module_of = {n: n.rsplit('.', 1)[0] if '.' in n else '' for n in names}
    ics = []
    for pos, mod in enumerate(order):
        kernel = (mod + '.weight') if mod else 'weight'
        sub = model.get_submodule(mod) if mod else model
        if not isinstance(sub, (nn.Linear, nn.Conv2d)):
            continue
        earlier = set(order[:pos])
        moved = {n: (base[n] - ICS_LR * g[n]) if module_of[n] in earlier else base[n] for n in names}
        if not any(module_of[n] in earlier for n in names):
            ics.append({'layer': mod, 'l2': 0.0, 'cos': 1.0})
            continue
        _, g2 = loss_and_grads(moved)
        G, G2 = g[kernel], g2[kernel]
        ics.append({'layer': mod, 'l2': torch.norm(G - G2).item(), 'cos': (torch.sum(G * G2) / (torch.norm(G) * torch.norm(G2))).item()})
    loss_and_grads(base)
    return {'loss': loss, 'gradNorm': gnorm, 'lossAtEta': loss_at, 'gradChange': change, 'beta': beta, 'ics': ics}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out_dir, exist_ok=True)
    refs = {'eta': ETA, 'icsLr': ICS_LR, 'torch': torch.__version__, 'cases': {}}
    for k, (name, choice, shape, classes) in enumerate(CASES):
        torch.manual_seed(1000 + k)
        model = load(name, choice)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                with torch.no_grad():
                    m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                    m.bias.copy_(0.1 * torch.randn_like(m.bias))
                    m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                    m.running_var.copy_(1 + 0.1 * torch.rand_like(m.running_var))
        # The weights as the file stores them (float32), then everything in float64.
        state = {key: v.float() for key, v in model.state_dict().items() if v.dtype.is_floating_point}
        save_safetensors(os.path.join(out_dir, name + '.safetensors'), state)
        model = model.double()
        model.load_state_dict({key: v.double() for key, v in state.items()}, strict=False)
        model.train()
        x32 = torch.randn(N, *shape).float()
        y = torch.randint(0, classes, (N,))
        np.savez(os.path.join(out_dir, name + '.npz'), x=x32.numpy(), y=y.numpy().astype(np.int64))
        r = measure(model, x32.double(), y)
        r['params'] = sum(p.numel() for p in model.parameters())
        r['model'] = choice
        r['inputShape'] = shape
        refs['cases'][name] = r
    with open(os.path.join(out_dir, 'references.json'), 'w') as f:
        json.dump(refs, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
