#!/usr/bin/python3
"""Write deterministic stand-in ONNX models with the I/O contract of the published H2G-Net models.

The real models (see /work/shared/H2GNET.md) cannot be downloaded here, so tests and benchmarks use
these. Run with Debian's Python (python3-onnx 1.12, python3-numpy 1.24; nothing else is needed):

    /usr/bin/python3 scripts/make_test_models.py --variant {full,tiny,oracle,...} --out DIR \
        [--seed 1234]

DIR is created if needed and receives exactly two files (files of those names are replaced):

  patchwise_mobilenet_network_breast_cancer.onnx   (patch classifier)
    input  "input_2:0"          float32 [N,256,256,3]  NHWC RGB in 0..1, N dynamic (dim_param "N")
    output "dense_1/Softmax:0"  float32 [N,2]          softmax; channel 1 = tumour
  refinement_network_breast_cancer.onnx            (refinement network)
    input  "input_1:0"          float32 [1,1024,1024,3]  low-resolution image, RGB in 0..1
    input  "input_2:0"          float32 [1,1024,1024,1]  patch heatmap (tumour probability)
    output "refinement/Softmax:0" float32 [1,1024,1024,2] softmax over the last axis; 1 = tumour

Both files: ONNX opset 13, IR version 8 (load in onnxruntime-node 1.30). Convolutions run in NCHW
inside the graph (Transpose in, Transpose out); inputs and outputs are NHWC like the originals.

Variants
  full    The published architectures with random, seeded weights, batch norm folded into conv
          weight + bias. Patch: Keras MobileNetV2 (alpha 1.0, no top: 3x3 conv 32 stride 2, 17
          inverted-residual blocks, expansion 1 then 6, ReLU6 = Clip(0,6), 1x1 conv 1280) +
          GlobalAveragePool + Dense(100, relu) + Dense(2) + Softmax (dropout = identity); 2,352,174
          parameters counted as Keras trainable ones (2,335,118 stored, BN folded). Refinement: the
          8-level U-Net of H2GNET.md (image + heatmap concatenated to 4 channels; encoder 8, 16, 32,
          64, 128, 128, 256, 256 with two 3x3 conv+BN+ReLU and a 2x2 max-pool per level; bottleneck
          512 at 4x4; decoder nearest x2 upsample + skip concat + two conv blocks, 256, 256, 128,
          128, 64, 32, 16, 8; 1x1 conv to 2; softmax); 11,563,410 Keras trainable parameters
          (11,572,562 with BN statistics, 11,554,258 stored). He-style init, so outputs vary with
          the input and are not saturated. The outputs are meaningless: use these models for
          loading, shape and speed tests.
  tiny    Same contract, tiny random networks (seeded) for fast unit tests; outputs depend on the
          input content but mean nothing. Patch: two stride-4 3x3 convs (8, 16 filters) + GAP +
          Dense(2), its bias set so that a uniform mid-grey patch gives p = 0.5.
          Refinement: 4x4 average pool, 3-level U-Net at 256x256 (one 3x3 conv per level, 4, 8, 16
          filters), nearest x4 upsample, 1x1 conv to 2, softmax.
  coupled The tiny patch network (same weights as `tiny` for a seed) and a hand-set refinement whose
          output depends on BOTH inputs, per pixel, with h the heatmap and R, G, B in 0..1:
            logit1 - logit0 = 20 * (h - 0.25) + 10 * (0.8 - mean(R, G, B))
          so tissue (darker than 0.8) under inferred patches (h ~ 0.5) is tumour, tissue under skipped
          patches (h = 0) is not, and a heatmap that reaches refinement transposed, shifted or scaled
          moves the mask. For the tests that compare with FAST itself (test/pipeline/fast.test.ts).
  oracle  Tiny hand-set networks whose outputs follow a known colour rule, for geometry tests. Test
          slides paint "tumour" in a saturated blue (about RGB 40,40,200) on pink/white tissue.
          With R, G, B in 0..1 and K = 20, T = 0.25 (ORACLE_K, ORACLE_T below):
            patch:      mR, mB = mean of R and of B over the whole 256x256 patch (ReduceMean);
                        logit0 = 0, logit1 = K * (mB - mR - T);
                        p_tumour = out[n,1] = sigmoid(K * (mB - mR - T)),  out[n,0] = 1 - out[n,1]
            refinement: per pixel, from the image input only (the heatmap is concatenated and then
                        multiplied by a 0 weight, so it is consumed but has no effect unless it is
                        NaN/Inf):
                        logit0 = 0, logit1 = K * (B - R - T);
                        out[0,y,x,1] = sigmoid(K * (B - R - T)),  out[0,y,x,0] = 1 - out[0,y,x,1]
          Examples: blue (40,40,200) -> B-R = 0.627 -> p = 0.9995; white -> p = 0.0067;
          pink (230,150,200) -> p = 0.00064. p > 0.5 exactly when B - R > 0.25.
          The oracle weights do not depend on --seed.
  nan-patch, batch-row, nan-refinement
          The oracle with one fault, same contract (they load): nan-patch's patch output is NaN
          wherever the oracle's is > 0.5 (tumour-coloured patches, and the other channel of the rest);
          batch-row's patch output is the mean over the batch, [1,2] for any N; nan-refinement's
          refinement output is NaN wherever the oracle's is > 0.5. For MODEL_INVALID tests.

Determinism: the same arguments give byte-identical files (same numpy/onnx versions). Weights are
drawn in float64 from numpy default_rng([seed, 0]) (patch) / default_rng([seed, 1]) (refinement) in
a fixed order and cast to float32; node and initializer names come from counters; no timestamps or
host data are written. The script prints the file sizes, parameter counts and generation time.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_builders import GraphBuilder  # noqa: E402

PATCH_FILE = "patchwise_mobilenet_network_breast_cancer.onnx"
REFINE_FILE = "refinement_network_breast_cancer.onnx"
PATCH_IN, PATCH_OUT = "input_2:0", "dense_1/Softmax:0"
REF_IMG, REF_HEAT, REF_OUT = "input_1:0", "input_2:0", "refinement/Softmax:0"
PATCH_INPUTS = [(PATCH_IN, ["N", 256, 256, 3])]
PATCH_OUTPUTS = [(PATCH_OUT, ["N", 2])]
REF_INPUTS = [(REF_IMG, [1, 1024, 1024, 3]), (REF_HEAT, [1, 1024, 1024, 1])]
REF_OUTPUTS = [(REF_OUT, [1, 1024, 1024, 2])]
ORACLE_K, ORACLE_T = 20.0, 0.25

# Keras MobileNetV2 (alpha 1.0) inverted residuals: expansion t, channels c, repeats n, stride s
MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
UNET_ENC = [8, 16, 32, 64, 128, 128, 256, 256]
UNET_BOTTLENECK = 512
UNET_DEC = [256, 256, 128, 128, 64, 32, 16, 8]
# Keras pads stride-2 3x3 convs on even inputs with ZeroPadding2D((0,1),(0,1)), then a valid conv.
PAD_S2 = [0, 0, 1, 1]


# ----------------------------------------------------------------------------------------------
# full
# ----------------------------------------------------------------------------------------------
def patch_full(rng):
    g = GraphBuilder(rng)
    x = g.nhwc_to_nchw(PATCH_IN)
    x = g.relu6(g.conv(x, 3, 32, 3, stride=2, pads=PAD_S2))  # -> 128x128
    cin = 32
    for t, c, n, s in MOBILENET_V2:
        for i in range(n):
            stride = s if i == 0 else 1
            h, hid = x, cin * t
            if t != 1:
                h = g.relu6(g.conv(h, cin, hid, 1, pads=[0, 0, 0, 0]))
            h = g.relu6(g.conv(h, hid, hid, 3, stride=stride, group=hid,
                               pads=PAD_S2 if stride == 2 else None))
            residual = stride == 1 and cin == c
            # linear bottleneck: variance-preserving (gain 1), variance halved on residual branches
            # so the sum of up to 4 chained residuals stays in ReLU6's working range
            h = g.conv(h, hid, c, 1, pads=[0, 0, 0, 0], gain=0.5 if residual else 1.0)
            x = g.op("Add", [x, h]) if residual else h
            cin = c
    x = g.relu6(g.conv(x, cin, 1280, 1, pads=[0, 0, 0, 0], bias_std=0.1))  # -> 8x8x1280
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    x = g.relu(g.dense(x, 1280, 100, gain=2.0 / 9.0, bias_std=0.1))
    x = g.dense(x, 100, 2, gain=1.0)
    g.op("Softmax", [x], axis=-1, out=PATCH_OUT)
    return g, g.build("patchwise_mobilenet_v2_full", PATCH_INPUTS, PATCH_OUTPUTS,
                      "H2G-Net patch classifier stand-in (MobileNetV2, random weights)")


def conv_block(g, x, cin, cout, bias_std=0.05, k=3):
    pads = None if k == 3 else [0, 0, 0, 0]
    return g.relu(g.conv(x, cin, cout, k, pads=pads, bias_std=bias_std, keras_bias=True))


def unet(g, x, cin, enc, bottleneck, dec, convs_per_level=2, dec_kernel=3):
    skips = []
    for f in enc:
        for _ in range(convs_per_level):
            x, cin = conv_block(g, x, cin, f), f
        skips.append((x, cin))
        x = g.maxpool2(x)
    for _ in range(convs_per_level):
        x, cin = conv_block(g, x, cin, bottleneck), bottleneck
    for f, (skip, sc) in zip(dec, reversed(skips)):
        x = g.op("Concat", [g.upsample2(x), skip], axis=1)
        cin += sc
        for _ in range(convs_per_level):
            x, cin = conv_block(g, x, cin, f, k=dec_kernel), f
    return x, cin


def refine_graph(g, enc, bottleneck, dec, convs_per_level, dec_kernel, name, shrink=1):
    x = g.op("Concat", [REF_IMG, REF_HEAT], axis=3)  # [1,1024,1024,4]
    x = g.nhwc_to_nchw(x)
    if shrink > 1:  # tiny: run the U-Net at 1024/shrink and upsample its features back
        x = g.avgpool(x, shrink)
    x, cin = unet(g, x, 4, enc, bottleneck, dec, convs_per_level, dec_kernel)
    if shrink > 1:
        x = g.upsample2(x, shrink)
    x = g.conv(x, cin, 2, 1, pads=[0, 0, 0, 0], gain=1.0, keras_bias=True, keras_bn=False)
    x = g.nchw_to_nhwc(x)
    g.op("Softmax", [x], axis=-1, out=REF_OUT)
    return g.build(name, REF_INPUTS, REF_OUTPUTS, "H2G-Net refinement stand-in (" + name + ")")


def refine_full(rng):
    g = GraphBuilder(rng)
    return g, refine_graph(g, UNET_ENC, UNET_BOTTLENECK, UNET_DEC, 2, 3, "refinement_unet8_full")


# ----------------------------------------------------------------------------------------------
# tiny
# ----------------------------------------------------------------------------------------------
def patch_tiny(rng):
    g = GraphBuilder(rng)
    x = g.nhwc_to_nchw(PATCH_IN)
    f = np.full(3, 0.5)  # features of a uniform mid-grey patch (interior, ignoring the borders)
    for cin, cout in ((3, 8), (8, 16)):  # 256 -> 64 -> 16
        x = g.relu(g.conv(x, cin, cout, 3, stride=4, pads=[1, 1, 1, 1], bias_std=0.1))
        w, b = g.last_wb
        f = np.maximum(0.0, (w * f[None, :, None, None]).sum(axis=(1, 2, 3)) + b)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    x = g.dense(x, 16, 2, gain=8.0, center_on=f)  # grey -> p = 0.5; colour moves it either way
    g.op("Softmax", [x], axis=-1, out=PATCH_OUT)
    return g, g.build("patchwise_tiny", PATCH_INPUTS, PATCH_OUTPUTS,
                      "H2G-Net patch classifier stand-in (tiny, random weights)")


def refine_tiny(rng):
    g = GraphBuilder(rng)
    return g, refine_graph(g, [4, 8], 16, [8, 4], 1, 3, "refinement_unet3_tiny", shrink=4)


# ----------------------------------------------------------------------------------------------
# oracle
# ----------------------------------------------------------------------------------------------
def oracle_weights():
    """[R, G, B] -> [logit0, logit1] with logit1 - logit0 = K * (B - R - T)."""
    w = np.zeros((3, 2), np.float32)
    w[0, 1], w[2, 1] = -ORACLE_K, ORACLE_K
    b = np.array([0.0, -ORACLE_K * ORACLE_T], np.float32)
    return w, b


def patch_oracle(_rng):
    g = GraphBuilder()
    w, b = oracle_weights()
    m = g.op("ReduceMean", [PATCH_IN], axes=[1, 2], keepdims=0)  # [N,3] mean R,G,B
    x = g.gemm_fixed(m, w, b)
    g.op("Softmax", [x], axis=-1, out=PATCH_OUT)
    return g, g.build("patchwise_oracle", PATCH_INPUTS, PATCH_OUTPUTS,
                      "oracle: p1 = sigmoid(20*(mean(B)-mean(R)-0.25))")


def refine_oracle(_rng):
    g = GraphBuilder()
    w, b = oracle_weights()
    w4 = np.concatenate([w, np.zeros((1, 2), np.float32)])  # heatmap row: weight 0
    x = g.op("Concat", [REF_IMG, REF_HEAT], axis=3)  # [1,1024,1024,4]
    x = g.op("MatMul", [x, g.const(w4, "W", learnable=True)])
    x = g.op("Add", [x, g.const(b, "B", learnable=True)])
    g.keras_total = g.keras_trainable = g.n_params
    g.op("Softmax", [x], axis=-1, out=REF_OUT)
    return g, g.build("refinement_oracle", REF_INPUTS, REF_OUTPUTS,
                      "oracle: p1 = sigmoid(20*(B-R-0.25)) per pixel; heatmap weight 0")


# ----------------------------------------------------------------------------------------------
# broken: the oracle with one fault each, loading with the exact contract (for MODEL_INVALID tests)
# ----------------------------------------------------------------------------------------------
def times_nan(g, x, out):
    """x * NaN where x's colour rule says tumour (x > 0.5), x elsewhere: NaN only on real work."""
    nan = g.const(np.array([np.nan], np.float32), "nan")
    half = g.const(np.array([0.5], np.float32), "half")
    return g.op("Where", [g.op("Greater", [x, half]), g.op("Mul", [x, nan]), x], out=out)


def patch_nan(_rng):
    g = GraphBuilder()
    w, b = oracle_weights()
    m = g.op("ReduceMean", [PATCH_IN], axes=[1, 2], keepdims=0)
    times_nan(g, g.op("Softmax", [g.gemm_fixed(m, w, b)], axis=-1), PATCH_OUT)
    return g, g.build("patchwise_nan", PATCH_INPUTS, PATCH_OUTPUTS, "broken: the oracle, NaN where it is > 0.5")


def patch_batch_row(_rng):
    g = GraphBuilder()
    w, b = oracle_weights()
    m = g.op("ReduceMean", [PATCH_IN], axes=[1, 2], keepdims=0)
    x = g.op("Softmax", [g.gemm_fixed(m, w, b)], axis=-1)  # [N,2]
    g.op("ReduceMean", [x], axes=[0], keepdims=1, out=PATCH_OUT)  # [1,2]: one row per batch
    return g, g.build("patchwise_batch_row", PATCH_INPUTS, PATCH_OUTPUTS,
                      "broken: the oracle's mean over the batch, one row per call")


def refine_nan(_rng):
    g = GraphBuilder()
    w, b = oracle_weights()
    w4 = np.concatenate([w, np.zeros((1, 2), np.float32)])
    x = g.op("Concat", [REF_IMG, REF_HEAT], axis=3)
    x = g.op("Add", [g.op("MatMul", [x, g.const(w4, "W")]), g.const(b, "B")])
    times_nan(g, g.op("Softmax", [x], axis=-1), REF_OUT)
    return g, g.build("refinement_nan", REF_INPUTS, REF_OUTPUTS, "broken: the oracle, NaN where it is > 0.5")



# coupled: logit1 - logit0 = COUPLED_KH * (h - COUPLED_H) + COUPLED_KI * (COUPLED_I - mean(R, G, B))
COUPLED_KH, COUPLED_H, COUPLED_KI, COUPLED_I = 20.0, 0.25, 10.0, 0.8


def refine_coupled(_rng):
    g = GraphBuilder()
    w4 = np.zeros((4, 2), np.float32)
    w4[:3, 1] = -COUPLED_KI / 3
    w4[3, 1] = COUPLED_KH
    b = np.array([0.0, COUPLED_KI * COUPLED_I - COUPLED_KH * COUPLED_H], np.float32)
    x = g.op("Concat", [REF_IMG, REF_HEAT], axis=3)  # [1,1024,1024,4]
    x = g.op("MatMul", [x, g.const(w4, "W", learnable=True)])
    x = g.op("Add", [x, g.const(b, "B", learnable=True)])
    g.keras_total = g.keras_trainable = g.n_params
    g.op("Softmax", [x], axis=-1, out=REF_OUT)
    return g, g.build("refinement_coupled", REF_INPUTS, REF_OUTPUTS,
                      "coupled: p1 = sigmoid(20*(h-0.25) + 10*(0.8-mean(R,G,B))) per pixel")



VARIANTS = {"full": (patch_full, refine_full), "tiny": (patch_tiny, refine_tiny),
            "oracle": (patch_oracle, refine_oracle), "coupled": (patch_tiny, refine_coupled),
            "nan-patch": (patch_nan, refine_oracle), "batch-row": (patch_batch_row, refine_oracle),
            "nan-refinement": (patch_oracle, refine_nan)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--seed", type=int, default=1234, help="weight seed (full, tiny)")
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error("--seed must be >= 0")
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    # one generator per file, so each file depends only on (variant, seed)
    for i, (build, fname) in enumerate(zip(VARIANTS[args.variant], (PATCH_FILE, REFINE_FILE))):
        rng = np.random.default_rng([args.seed, i])
        g, model = build(rng)
        data = model.SerializeToString()
        path = os.path.join(args.out, fname)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print(f"{path}: {len(data):,} bytes; {g.n_params:,} params in graph (BN folded); "
              f"Keras-style {g.keras_trainable:,} trainable / {g.keras_total:,} total")
    dt = time.perf_counter() - t0
    print(f"variant {args.variant}, seed {args.seed}: generated in {dt:.2f} s")


if __name__ == "__main__":
    main()
