#!/usr/bin/env python3
"""Write a full-size H2G-Net model pair whose decisions mean something on phantom slides.

    .venv/bin/python scripts/make_fitted_models.py --out DIR [--seed 1234]

Random weights give nearly the same softmax for every patch, so nothing that compares two models'
decisions (quantization agreement, say) can fail with them. Here:

  patch       the `full` MobileNetV2 of scripts/make_test_models.py (same seed -> same backbone and
              first dense layer), with the last Dense(100 -> 2) fitted by L2-regularised logistic
              regression on its 100 ReLU features of 256 px crops of the phantom textures
              (scripts/phantom.py): tumour texture = 1, normal texture = 0, normal texture with a
              white margin = 0. So p(tumour) is high on the carcinoma texture, low on skin tissue,
              in between where a patch mixes them; the script prints accuracy on held-out crops.
  refinement  the published contract ([1,1024,1024,3] image + [1,1024,1024,1] heatmap -> softmax),
              per pixel: logit1 - logit0 = 12 (h - 0.5) - 40 relu(mean(R,G,B) - 0.85). The mask is the
              heatmap's 0.5 contour (stretched bilinearly, as the pipeline does) inside tissue, so a
              change of the heatmap moves the mask.

Deterministic for one seed and the same numpy/onnxruntime. Needs the project's .venv
(scripts/setup-python.sh: onnxruntime) and the shared textures (../shared/data).
"""

import argparse
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_models import (PATCH_FILE, PATCH_IN, REF_HEAT, REF_IMG, REF_INPUTS, REF_OUT,  # noqa: E402
                              REF_OUTPUTS, REFINE_FILE, patch_full)
from onnx_builders import GraphBuilder  # noqa: E402
from phantom import crops, load_textures  # noqa: E402

HEAT_GAIN, WHITE_GAIN, WHITE_LEVEL = 12.0, 40.0, 0.85
PER_CLASS = 96  # training crops per kind; as many again are held out
PLANTED = 3  # channels that carry the colour (variant planted)


def training_crops(textures, rng):
    tumour = crops(textures["tumour"], 2 * PER_CLASS, 256, rng)
    normal = crops(textures["normal"], 2 * PER_CLASS, 256, rng)
    margin = crops(textures["normal"], 2 * PER_CLASS, 256, rng)
    for patch, width in zip(margin, rng.integers(32, 128, len(margin))):
        patch[:, :width] = 255  # tissue edge: part of the patch is background
    x = np.concatenate([tumour, normal, margin])
    y = np.concatenate([np.ones(len(tumour)), np.zeros(len(normal) + len(margin))])
    held = np.tile(np.repeat([False, True], PER_CLASS), 3)  # the second half of each kind
    return x, y, held


def features(model, x):
    """The last Gemm's input (ReLU of Dense(1280 -> 100)) for every patch."""
    import onnx
    import onnxruntime as ort

    gemm = [n for n in model.graph.node if n.op_type == "Gemm"][-1]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(onnx.helper.make_tensor_value_info(gemm.input[0], onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    out = [session.run([gemm.input[0]], {PATCH_IN: x[i:i + 16].astype(np.float32) / 255})[0]
           for i in range(0, len(x), 16)]
    return gemm, np.concatenate(out).astype(np.float64)


def logistic(f, y, l2=1.0, steps=50):
    """Newton's method on standardised features; returns weights and bias on the raw features."""
    mu, sd = f.mean(0), f.std(0) + 1e-6
    z = np.hstack([(f - mu) / sd, np.ones((len(f), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg)
        w -= np.linalg.solve(hess, grad)
    return w[:-1] / sd, w[-1] - (w[:-1] / sd) @ mu


def _conv_nchw(x, w, b, stride, pads, group):
    """Conv of NCHW float32 `x` (onnx semantics), by shifted products: 1x1, depthwise and dense k x k."""
    t, l, bo, r = pads
    x = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    k = w.shape[2]
    ho = (x.shape[2] - k) // stride + 1
    wo = (x.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo), np.float32)
    for dy in range(k):
        for dx in range(k):
            xs = x[:, :, dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride]
            if group == 1:
                out += np.einsum("oc,nchw->nohw", w[:, :, dy, dx], xs, optimize=True)
            else:  # depthwise: one input channel per output channel
                out += xs * w[None, :, 0, dy, dx, None, None]
    return out + b[None, :, None, None]


def conv_role(node, attrs, consumers):
    """What a Conv/Gemm is in the MobileNetV2 graph: first, depthwise, expand (or the last 1x1, both
    followed by ReLU6), projection, residual (a projection whose output is added), or dense."""
    follows = consumers.get(node.output[0], [])
    if node.op_type == "Gemm":
        return "dense"
    if attrs["group"] > 1:
        return "depthwise"
    if attrs["kernel_shape"][0] == 3:
        return "first"
    if follows and follows[0] == "Clip":
        return "expand"
    # a residual branch only feeds its Add; a block's output also feeds the next block's convolution
    return "residual" if follows == ["Add"] else "projection"


def plant(role, w, b):
    """Output channels 0-2 carry the patch's colour through the network (see `normalise`); a
    residual branch adds nothing to them."""
    c = np.arange(PLANTED)
    b[:PLANTED] = 0
    if role == "dense":  # Gemm weights are [in, out]
        w[:, :PLANTED] = 0
        w[c, c] = 1
        return
    w[:PLANTED] = 0
    if role == "first":  # 1 + 4 x (3x3 box mean of R, G, B): within ReLU6's linear range
        w[c, c] = 4 / 9
        b[:PLANTED] = 1
    elif role == "depthwise":  # 3x3 box mean
        w[:PLANTED, 0] = 1 / 9
    elif role in ("expand", "projection"):
        w[c, c, 0, 0] = 1


def normalise(model, x, rng, planted):
    """Data-dependent initialisation, as batch norm folded after training leaves a network: every
    Conv's (and the first Gemm's) output channels get a drawn mean and standard deviation over `x`
    (NHWC float32), layer after layer. With `planted`, channels 0-2 of every layer instead carry the
    box-smoothed colour (1 + 4 RGB) unchanged to the pooled features, where the fitted head reads
    them: a decision made from large, smooth signals, robust to rounding as a trained network's
    are; the other channels still compute (and are quantized) as usual."""
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n.op_type)
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    values = {PATCH_IN: x}
    for n in model.graph.node:
        a = {att.name: onnx_attr(att) for att in n.attribute}
        ins = [values.get(i) if i in values else numpy_helper.to_array(inits[i]) for i in n.input if i]
        if n.op_type in ("Conv", "Gemm") and n is not gemms[-1]:
            w, b = ins[1].astype(np.float32), ins[2].astype(np.float32)
            run = (lambda w, b: _conv_nchw(ins[0], w, b, a["strides"][0], a["pads"], a["group"])) \
                if n.op_type == "Conv" else (lambda w, b: ins[0] @ w + b)
            y = run(w, b)
            axes = (0, 2, 3) if n.op_type == "Conv" else (0,)
            mean, std = y.mean(axes), y.std(axes) + 1e-6
            role = conv_role(n, a, consumers)
            if role in ("projection", "residual"):  # linear bottleneck; half as large on residual branches
                target_mean = np.zeros(len(b))
                target_std = rng.uniform(0.5, 1.0, len(b)) * (0.5 if role == "residual" else 1.0)
            else:  # followed by ReLU6 / ReLU: selective units, as trained ones are
                target_mean, target_std = rng.uniform(0.3, 1.2, len(b)), rng.uniform(0.6, 1.5, len(b))
            scale = (target_std / std).astype(np.float32)
            w = w * (scale[:, None, None, None] if n.op_type == "Conv" else scale[None, :])
            b = ((b - mean) * scale + target_mean).astype(np.float32)
            if planted:
                plant(role, w, b)
            for name, value in ((n.input[1], w), (n.input[2], b)):
                inits[name].CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))
            out = run(w, b)
        elif n.op_type == "Transpose":
            out = np.transpose(ins[0], a["perm"])
        elif n.op_type == "Clip":
            out = np.clip(ins[0], ins[1], ins[2])
        elif n.op_type == "Add":
            out = ins[0] + ins[1]
        elif n.op_type == "Relu":
            out = np.maximum(ins[0], 0)
        elif n.op_type == "GlobalAveragePool":
            out = ins[0].mean((2, 3), keepdims=True)
        elif n.op_type == "Flatten":
            out = ins[0].reshape(len(ins[0]), -1)
        else:  # the head (fitted afterwards) and the softmax
            break
        values[n.output[0]] = out.astype(np.float32)


def onnx_attr(att):
    import onnx

    return onnx.helper.get_attribute_value(att)


def fitted_patch_model(seed, textures, variant):
    from onnx import numpy_helper

    _, model = patch_full(np.random.default_rng([seed, 0]))
    if variant == "planted":
        rng = np.random.default_rng([seed, 3])
        sample = np.concatenate([crops(textures[k], 24, 128, rng) for k in ("tumour", "normal")])
        normalise(model, sample.astype(np.float32) / 255, rng, planted=True)
    x, y, held = training_crops(textures, np.random.default_rng([seed, 2]))
    gemm, f = features(model, x)
    used = PLANTED if variant == "planted" else f.shape[1]
    w, b = logistic(f[~held, :used], y[~held])
    w = np.concatenate([w, np.zeros(f.shape[1] - used)])
    logit = f @ w + b
    accuracy = ((logit > 0) == (y > 0.5))[held].mean()
    inits = {t.name: t for t in model.graph.initializer}
    weights = np.zeros((len(w), 2), np.float32)
    weights[:, 1] = w
    for name, value in ((gemm.input[1], weights), (gemm.input[2], np.array([0, b], np.float32))):
        inits[name].CopyFrom(numpy_helper.from_array(value, name))
    print(f"patch head fitted on {int((~held).sum())} crops: held-out accuracy {accuracy:.3f}; "
          f"logits tumour {np.median(logit[y > 0.5]):+.2f}, normal {np.median(logit[y < 0.5]):+.2f} (medians)")
    return model


def heatmap_refinement():
    g = GraphBuilder()
    x = g.op("Concat", [REF_IMG, REF_HEAT], axis=3)  # [1,1024,1024,4]: R, G, B, h
    heat = np.zeros((4, 2), np.float32)
    heat[3, 1] = HEAT_GAIN
    logits = g.op("Add", [g.op("MatMul", [x, g.const(heat, "W", True)]),
                          g.const(np.array([0, -HEAT_GAIN / 2], np.float32), "B", True)])
    white = np.zeros((4, 2), np.float32)
    white[:3, 1] = 1 / 3
    whiteness = g.op("Relu", [g.op("Add", [g.op("MatMul", [x, g.const(white, "W", True)]),
                                           g.const(np.array([0, -WHITE_LEVEL], np.float32), "B", True)])])
    logits = g.op("Sub", [logits, g.op("Mul", [whiteness, g.const(np.array(WHITE_GAIN, np.float32), "K")])])
    g.keras_total = g.keras_trainable = g.n_params
    g.op("Softmax", [logits], axis=-1, out=REF_OUT)
    return g.build("refinement_heatmap_gate", REF_INPUTS, REF_OUTPUTS,
                   "12 (h - 0.5) - 40 relu(mean RGB - 0.85) per pixel: the heatmap's 0.5 contour in tissue")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--variant", choices=("planted", "fragile"), default="planted")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    textures = load_textures()
    patch = fitted_patch_model(args.seed, textures, args.variant)
    for model, name in ((patch, PATCH_FILE), (heatmap_refinement(), REFINE_FILE)):
        path = os.path.join(args.out, name)
        with open(path + ".tmp", "wb") as f:
            f.write(model.SerializeToString())
        os.replace(path + ".tmp", path)
        print(f"{path}: {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
