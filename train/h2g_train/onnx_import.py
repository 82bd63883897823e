"""Fine-tuning from an installed model set: the ONNX files' weights loaded into the PyTorch networks.

No ONNX -> PyTorch converter is packaged for Debian (onnx2torch is PyPI-only and rebuilds a generic
graph, not our modules), and the mapping is simple for these two architectures: their convolutions and
dense layers form one chain in graph order, which is also our modules' order. So the Conv nodes (each
possibly followed by a BatchNormalization node) and the dense layers (Gemm, or MatMul + Add) are read
in topological order and copied, with every shape checked. Exporters fold batch norm into the conv
weights (ours and scripts/make_test_models.py do); a folded conv is loaded as conv + identity batch
norm, and `batchnorm.recalibrate_batch_norm` then re-derives batch statistics that keep the function unchanged,
so training mode does not start from a different network than the one installed.

A U-Net exporter may concatenate [upsampled, skip] instead of Keras' [skip, upsampled]; the consuming
conv's input channels are permuted into our order then."""

from __future__ import annotations

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from .networks import BN_EPS


class ImportError_(ValueError):
    pass


def _graph_tables(model: onnx.ModelProto):
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for node in g.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(a.t)
        elif node.op_type == "Identity" and node.input[0] in consts:  # exporters alias equal weights
            consts[node.output[0]] = consts[node.input[0]]
    consumers: dict[str, list] = {}
    producer = {}
    for node in g.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
        for o in node.output:
            producer[o] = node
    return consts, consumers, producer


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _from_upsample(name, producer, depth=4) -> bool:
    node = producer.get(name)
    for _ in range(depth):
        if node is None:
            return False
        if node.op_type in ("Resize", "Upsample"):
            return True
        node = producer.get(node.input[0]) if node.input else None
    return False


def read_layers(path: str):
    """[(kind, params)] in graph order: ("conv", {w, b, bn, perm}) and ("dense", {w (out, in), b})."""
    model = onnx.load(path)
    consts, consumers, producer = _graph_tables(model)
    layers = []
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = consts[node.input[1]]
            b = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            bn = None
            after = consumers.get(node.output[0], [])
            if len(after) == 1 and after[0].op_type == "BatchNormalization":
                n = after[0]
                bn = {k: consts[n.input[i]] for i, k in enumerate(["gamma", "beta", "mean", "var"], start=1)}
                bn["eps"] = _attr(n, "epsilon", 1e-5)
            perm = None
            src = producer.get(node.input[0])
            if src is not None and src.op_type == "Concat" and len(src.input) == 2:
                first_up = _from_upsample(src.input[0], producer)
                if first_up and not _from_upsample(src.input[1], producer):
                    perm = "up-first"
            layers.append(("conv", {"w": w, "b": b, "bn": bn, "perm": perm}))
        elif node.op_type == "Gemm":
            w = consts[node.input[1]]
            if not _attr(node, "transB", 0):
                w = w.T
            b = consts[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            layers.append(("dense", {"w": w, "b": b}))
        elif node.op_type == "MatMul" and node.input[1] in consts:
            w = consts[node.input[1]].T
            add = consumers.get(node.output[0], [])
            b = np.zeros(w.shape[0], np.float32)
            if len(add) == 1 and add[0].op_type == "Add":
                other = [i for i in add[0].input if i != node.output[0]]
                if other and other[0] in consts:
                    b = consts[other[0]].reshape(-1)
            layers.append(("dense", {"w": w, "b": b}))
    return layers


def torch_layers(net: nn.Module):
    """[(kind, conv_or_linear, bn)] in module order."""
    out = []
    mods = list(net.modules())
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            bn = mods[i + 1] if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d) else None
            out.append(("conv", m, bn))
        elif isinstance(m, nn.Linear):
            out.append(("dense", m, None))
    return out


def _set(param: torch.Tensor, value: np.ndarray, what: str):
    if tuple(param.shape) != tuple(value.shape):
        raise ImportError_(
            f"{what}: the file has shape {tuple(value.shape)}, the network {tuple(param.shape)} (a different width or architecture)"
        )
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.array(value, dtype=np.float32)))


def load_onnx_weights(net: nn.Module, path: str) -> None:
    """Copies the ONNX file's weights into `net` (same architecture and width), or raises ImportError_
    saying where they differ."""
    src = read_layers(path)
    dst = torch_layers(net)
    kinds = lambda ls: [k for k, *_ in ls]  # noqa: E731
    if kinds(src) != kinds(dst):
        raise ImportError_(
            f"{path} does not have this network's layers: {kinds(src).count('conv')} convolutions and "
            f"{kinds(src).count('dense')} dense layers, expected {kinds(dst).count('conv')} and {kinds(dst).count('dense')} "
            "(a different architecture, or a different width)"
        )
    for n, ((kind, p), (_, mod, bn)) in enumerate(zip(src, dst)):
        what = f"{path}: layer {n} ({kind})"
        w = p["w"]
        if kind == "dense":
            _set(mod.weight, w, what)
            _set(mod.bias, p["b"], what)
            continue
        if p["perm"] == "up-first":
            # [up, skip] in the file, [skip, up] here: move the skip's input channels first.
            up = dst[n - 1][1].out_channels  # the previous conv feeds the upsampling
            w = np.concatenate([w[:, up:], w[:, :up]], axis=1)
        _set(mod.weight, w, what)
        b = p["b"] if p["b"] is not None else np.zeros(w.shape[0], np.float32)
        if bn is None:  # the head: a plain conv with bias
            _set(mod.bias, b, what)
            continue
        if mod.bias is not None:
            _set(mod.bias, np.zeros_like(b), what)
        if p["bn"] is not None:  # gamma (z + b - mean) / sqrt(var + eps) + beta, in our epsilon
            s = p["bn"]
            var = np.maximum(s["var"] + s["eps"] - bn.eps, 0)
            _set(bn.weight, s["gamma"] * np.sqrt(var + bn.eps) / np.sqrt(s["var"] + s["eps"]), what)
            _set(bn.bias, s["beta"], what)
            _set(bn.running_mean, s["mean"] - b, what)
            _set(bn.running_var, var, what)
        else:  # folded: conv + bias, identity normalisation
            _set(bn.weight, np.ones_like(b), what)
            _set(bn.bias, b, what)
            _set(bn.running_mean, np.zeros_like(b), what)
            _set(bn.running_var, np.full_like(b, 1 - bn.eps), what)
