"""Small, dependency-free helpers for building ONNX graphs with onnx.helper + numpy.

Used by scripts/make_test_models.py (see its docstring for the model contract). Everything here is
deterministic: node/initializer names come from a counter, weights come from the caller's
numpy Generator, and nothing time- or host-dependent is written into the model.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8
FLOAT = TensorProto.FLOAT


class GraphBuilder:
    """Accumulates nodes and float32 initializers; `build()` returns a checked ModelProto."""

    def __init__(self, rng=None):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.n_params = 0  # learnable parameters stored in the graph (BN already folded)
        # the same network counted the Keras way (conv + unfolded BN): total has 4 values per BN
        # channel (gamma, beta, moving mean/var), trainable only 2 (gamma, beta)
        self.keras_total = 0
        self.keras_trainable = 0
        self._count = {}

    # ----- naming / constants -------------------------------------------------------------
    def name(self, prefix):
        i = self._count.get(prefix, 0)
        self._count[prefix] = i + 1
        return f"{prefix}_{i}"

    def const(self, array, prefix="const", learnable=False):
        arr = np.ascontiguousarray(array)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        nm = self.name(prefix)
        self.inits.append(numpy_helper.from_array(arr, nm))
        if learnable:
            self.n_params += arr.size
        return nm

    def op(self, op_type, inputs, n_out=1, out=None, **attrs):
        base = self.name(op_type.lower())
        outs = [out] if out is not None else [f"{base}:{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=base, **attrs))
        return outs[0] if n_out == 1 else outs

    # ----- layers (NCHW inside the graph) -------------------------------------------------
    def he_weight(self, shape, fan_in, gain=2.0):
        return self.rng.standard_normal(shape) * np.sqrt(gain / fan_in)

    def conv(self, x, cin, cout, k, stride=1, pads=None, group=1, gain=2.0,
             bias_std=0.0, keras_bias=False, keras_bn=True, wb=None):
        """Conv with a BN folded into weight + bias. Default pads = 'same' for odd k, stride 1.
        wb: (weight [cout, cin/group, k, k], bias [cout]) to use instead of drawing them."""
        if pads is None:
            p = k // 2
            pads = [p, p, p, p]
        fan_in = (cin // group) * k * k
        if wb is not None:
            w, b = wb
        else:
            w = self.he_weight((cout, cin // group, k, k), fan_in, gain)
            b = self.rng.standard_normal(cout) * bias_std if bias_std else np.zeros(cout)
        self.last_wb = (w, b)  # float64 copies, for callers that derive constants from them
        wn = self.const(w, "W", learnable=True)
        bn = self.const(b, "B", learnable=True)
        base = w.size + (cout if keras_bias or not keras_bn else 0)
        self.keras_total += base + (4 * cout if keras_bn else 0)
        self.keras_trainable += base + (2 * cout if keras_bn else 0)
        return self.op("Conv", [x, wn, bn], kernel_shape=[k, k], strides=[stride, stride],
                       pads=list(pads), group=group, dilations=[1, 1])

    def relu(self, x):
        return self.op("Relu", [x])

    def relu6(self, x):
        lo = self.const(np.array(0.0, np.float32), "clip_min")
        hi = self.const(np.array(6.0, np.float32), "clip_max")
        return self.op("Clip", [x, lo, hi])

    def dense(self, x, cin, cout, gain=2.0, bias_std=0.0, center_on=None, wb=None):
        """Gemm; with center_on (a feature vector), the bias is set so that input gives 0 logits.
        wb: (weight [cin, cout], bias [cout]) to use instead of drawing them."""
        if wb is not None:
            w, b = wb
        else:
            w = self.rng.standard_normal((cin, cout)) * np.sqrt(gain / cin)
            b = self.rng.standard_normal(cout) * bias_std if bias_std else np.zeros(cout)
        if center_on is not None:
            b = -(center_on[:, None] * w).sum(axis=0)
        self.keras_total += w.size + cout
        self.keras_trainable += w.size + cout
        wn = self.const(w, "W", learnable=True)
        bn = self.const(b, "B", learnable=True)
        return self.op("Gemm", [x, wn, bn])

    def gemm_fixed(self, x, w, b):
        self.keras_total += np.size(w) + np.size(b)
        self.keras_trainable += np.size(w) + np.size(b)
        return self.op("Gemm", [x, self.const(w, "W", True), self.const(b, "B", True)])

    def maxpool2(self, x):
        return self.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])

    def avgpool(self, x, k):
        return self.op("AveragePool", [x], kernel_shape=[k, k], strides=[k, k])

    def upsample2(self, x, factor=2):
        """Nearest-neighbour upsampling by an integer factor (NCHW)."""
        scales = self.const(np.array([1, 1, factor, factor], np.float32), "scales")
        return self.op("Resize", [x, "", scales], mode="nearest",
                       coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def nhwc_to_nchw(self, x):
        return self.op("Transpose", [x], perm=[0, 3, 1, 2])

    def nchw_to_nhwc(self, x, out=None):
        return self.op("Transpose", [x], perm=[0, 2, 3, 1], out=out)

    # ----- model ----------------------------------------------------------------------------
    def build(self, graph_name, inputs, outputs, doc=""):
        """inputs/outputs: lists of (name, shape) with shape entries int or str (dim_param)."""
        g = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info(n, FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, FLOAT, s) for n, s in outputs],
            initializer=self.inits)
        m = helper.make_model(g, producer_name="h2gnet-make_test_models",
                              producer_version="1", doc_string=doc,
                              opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m)
        return m
