"""Embed stage, int8 path: the graph rewrites that make a passage's int8 vector depend on its
text alone, whatever it is batched with.

ONNX Runtime's ``quantize_dynamic`` quantises each MatMul's input with one scale and zero point
for the whole tensor (``DynamicQuantizeLinear``): the largest activation of *any* text in the
batch, padding included, sets the scale of every other.  So a passage embedded beside other
passages got another vector than alone (up to 0.011 per component, 0.013 in cosine on the seed
passages), and a fresh build, an incremental build and the embedding cache disagreed.

Here every token row gets its own symmetric scale (``max |x| / 127`` over the row's hidden
features), and rows are quantised by one per-axis ``QuantizeLinear`` with the constant zero point
128 (unsigned, as the AVX2 u8 x s8 kernels want; the weights stay 7-bit, so their pairwise sums
cannot saturate).  A token's codes then depend on that token's activations alone; the matrix
products are exact integer sums, and the float kernels (attention with its padding mask, layer
norm, GELU) were measured to give the same bytes for a text alone and in any batch.  The fused
``Attention`` node quantises its input per tensor inside itself (``QAttention``), so before
quantising it is split into its QKV ``MatMul`` (quantised like the others) and a float
``MultiHeadAttention`` over the packed-mask lengths.

Measured on the 39 seed + 50 xquad-dev passages (one run, batch 4, busy 2-core machine): cosine
to fp32 min 0.9988 / mean 0.9991 (per-tensor int8: 0.9960 / 0.9973), 1.12x the CPU time of the
per-tensor graph, byte-identical alone and in batches (per-tensor: up to 9.7e-3 apart).
"""

from __future__ import annotations

import numpy as np


def attention_to_matmul(model) -> None:
    """Replace each fused ``Attention(x, W, bias, mask_index)`` by ``MatMul(x, W)``, a split into
    Q, K and V, and ``MultiHeadAttention(q, k, v, bias, mask_index)``: the same function, with
    the projection left to the quantiser as an ordinary MatMul."""
    from onnx import helper, numpy_helper

    g = model.graph
    weights = {i.name: i for i in g.initializer}
    nodes = []
    for n in g.node:
        if n.op_type != "Attention":
            nodes.append(n)
            continue
        x, w, bias, mask = n.input[:4]
        heads = next(helper.get_attribute_value(a) for a in n.attribute if a.name == "num_heads")
        hidden = numpy_helper.to_array(weights[w]).shape[1] // 3
        qkv, sizes = n.name + "_qkv", n.name + "_split_sizes"
        q, k, v = (n.name + s for s in ("_q", "_k", "_v"))
        g.initializer.append(numpy_helper.from_array(np.array([hidden] * 3, dtype=np.int64), sizes))
        nodes += [helper.make_node("MatMul", [x, w], [qkv], name=n.name + "_qkv_matmul"),
                  helper.make_node("Split", [qkv, sizes], [q, k, v], axis=2, name=n.name + "_split"),
                  helper.make_node("MultiHeadAttention", [q, k, v, bias, mask], list(n.output),
                                   name=n.name + "_mha", domain="com.microsoft", num_heads=heads)]
    del g.node[:]
    g.node.extend(nodes)


def per_row_activations(model) -> int:
    """Replace each ``DynamicQuantizeLinear(x) -> (q, scale, zero point)`` by per-row symmetric
    quantisation: ``scale`` becomes [..., 1] (the consumers multiply it into [..., N] by
    broadcasting) and the zero point the constant 128.  Returns how many were replaced."""
    from onnx import helper, numpy_helper

    g = model.graph
    for name, value in (("rowq_127", np.array(127.0, np.float32)), ("rowq_tiny", np.array(1e-30, np.float32)),
                        ("rowq_zp", np.array(128, np.uint8)), ("rowq_zp_1", np.array([128], np.uint8)),
                        ("rowq_flat", np.array([-1], np.int64))):
        g.initializer.append(numpy_helper.from_array(value, name))
    nodes, renamed = [], {}
    for n in g.node:
        if n.op_type != "DynamicQuantizeLinear":
            nodes.append(n)
            continue
        x, (xq, scale, zero) = n.input[0], n.output
        renamed[zero] = "rowq_zp"
        p = n.name + "_row"
        mk = helper.make_node
        nodes += [mk("Abs", [x], [p + "_abs"]),
                  mk("ReduceMax", [p + "_abs"], [p + "_max"], axes=[-1], keepdims=1),
                  mk("Div", [p + "_max", "rowq_127"], [p + "_s0"]),
                  mk("Max", [p + "_s0", "rowq_tiny"], [scale]),  # an all-zero row: codes 128
                  mk("Shape", [x], [p + "_shape"]),
                  mk("Shape", [x], [p + "_k"], start=-1),
                  mk("Concat", ["rowq_flat", p + "_k"], [p + "_shape2"], axis=0),
                  mk("Reshape", [x, p + "_shape2"], [p + "_x2"]),  # [rows, K]
                  mk("Reshape", [scale, "rowq_flat"], [p + "_s1"]),  # [rows]
                  mk("Shape", [p + "_s1"], [p + "_m"]),
                  mk("Expand", ["rowq_zp_1", p + "_m"], [p + "_zp"]),
                  mk("QuantizeLinear", [p + "_x2", p + "_s1", p + "_zp"], [p + "_q2"], axis=0),
                  mk("Reshape", [p + "_q2", p + "_shape"], [xq])]
    for node in nodes:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    del g.node[:]
    g.node.extend(nodes)
    return len(renamed)


def quantize(fused, out) -> None:
    """The fused float graph at ``fused`` (its Attention already split) -> int8 at ``out``:
    ``quantize_dynamic`` of the MatMuls and the embedding table (QInt8 weights, per channel,
    reduced range, symmetric, MatMulConstBOnly, ``DefaultTensorType=1``: without it the fused
    graph fails with "Unable to find data type for weight"), then per-row activations."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dynamic = out.with_name(out.stem + "-dynamic.onnx")
    quantize_dynamic(str(fused), str(dynamic), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     op_types_to_quantize=["MatMul", "EmbedLayerNormalization"],
                     extra_options={"WeightSymmetric": True, "MatMulConstBOnly": True,
                                    "DefaultTensorType": onnx.TensorProto.FLOAT})
    graph = onnx.load(str(dynamic))
    per_row_activations(graph)
    onnx.save(graph, str(out))
    dynamic.unlink()
