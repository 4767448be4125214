"""Makes a float16-compute copy of a model.onnx for the WebGPU lever measured by benchmarks/speed (--fp16-onnx).

  python3 benchmarks/gpu-fp16.py models/default/model.onnx /tmp/model.fp16.onnx [--fp32-ops InstanceNormalization]

The contract stays (x and t float32 in, out float32): x is cast to float16 at the start and the output back to
float32 at the end. Everything computed from x runs in float16: weights stored as float16 (the manifest's
float16 export) are used directly instead of through their Cast to float32, other float constants are converted.
What depends on t alone (the sinusoidal embedding and its MLPs: cos/sin of t·f with t up to 999 would lose its
phase in float16) stays float32 and is cast where it joins the image path. Resize's roi/scales stay float32.
--fp32-ops keeps the named op types in float32 (cast around them), e.g. the normalisation, if float16 hurts.
Works with onnx 1.12 (Debian here) and 1.2x (the GPU machine).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
KEEP_FP32_INPUTS = {'Resize': {1, 2}, 'Upsample': {1}}  # roi, scales


def convert(model: onnx.ModelProto, fp32_ops: set) -> onnx.ModelProto:
    g = model.graph
    inferred = shape_inference.infer_shapes(model)
    types = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        types[vi.name] = vi.type.tensor_type.elem_type
    inits = {i.name: i for i in g.initializer}
    for i in g.initializer:
        types[i.name] = i.data_type
    producer = {}
    for n in g.node:
        for o in n.output:
            producer[o] = n
        if n.op_type == 'Constant':
            for a in n.attribute:
                if a.name == 'value':
                    types[n.output[0]] = a.t.data_type
    if 'x' not in [i.name for i in g.input] or len(g.output) != 1:
        raise SystemExit('expected the model contract: inputs x, t and one output')
    out_name = g.output[0].name

    # values computed from x (the image path)
    xdep = {'x'}
    for n in g.node:
        if any(i in xdep for i in n.input if i):
            xdep.update(n.output)
    half_nodes = [n for n in g.node
                  if any(i in xdep for i in n.input if i) and any(types.get(o) == FLOAT for o in n.output)
                  and n.op_type not in fp32_ops]
    half_ids = {id(n) for n in half_nodes}
    half_values = {o for n in half_nodes for o in n.output if types.get(o) == FLOAT}

    new_inits, casts_before, made = [], {}, {}

    def half_of(name: str, consumer) -> str:
        """A float16 version of the float32 value `name` for a float16 node."""
        if name in made:
            return made[name]
        p = producer.get(name)
        if p is not None and p.op_type == 'Cast' and p.input[0] in inits and inits[p.input[0]].data_type == HALF:
            made[name] = p.input[0]  # the stored float16 weight itself
        elif name in inits:
            arr = numpy_helper.to_array(inits[name]).astype(np.float16)
            new_inits.append(numpy_helper.from_array(arr, name + '__fp16'))
            made[name] = name + '__fp16'
        elif p is not None and p.op_type == 'Constant':
            t = next(a.t for a in p.attribute if a.name == 'value')
            arr = numpy_helper.to_array(t).astype(np.float16)
            new_inits.append(numpy_helper.from_array(arr, name + '__fp16'))
            made[name] = name + '__fp16'
        else:  # computed in float32 (the t path, an op kept in float32, or the input x): cast where it is used
            cast = helper.make_node('Cast', [name], [name + '__fp16'], to=HALF, name=name + '__to_fp16')
            casts_before.setdefault(id(consumer), []).append(cast)
            made[name] = name + '__fp16'
        return made[name]

    to_fp32 = {}
    nodes = []
    for n in g.node:
        if id(n) in half_ids:
            keep = KEEP_FP32_INPUTS.get(n.op_type, set())
            for k, i in enumerate(n.input):
                if not i or k in keep or types.get(i) != FLOAT or i in half_values:
                    continue
                n.input[k] = half_of(i, n)
            if n.op_type == 'Cast':
                for a in n.attribute:
                    if a.name == 'to' and a.i == FLOAT:
                        a.i = HALF
        else:
            # a float32 node reading a float16 value (an op kept in float32): cast back
            for k, i in enumerate(n.input):
                if i in half_values and n.op_type not in ('Shape',):
                    if i not in to_fp32:
                        c = helper.make_node('Cast', [i], [i + '__fp32'], to=FLOAT, name=i + '__to_fp32')
                        casts_before.setdefault(id(n), []).append(c)
                        to_fp32[i] = c.output[0]
                    n.input[k] = to_fp32[i]
        nodes.extend(casts_before.get(id(n), []))
        nodes.append(n)
    # the output back to float32
    if out_name in half_values:
        for n in nodes:
            for k, o in enumerate(n.output):
                if o == out_name:
                    n.output[k] = out_name + '__fp16'
            for k, i in enumerate(n.input):
                if i == out_name:
                    n.input[k] = out_name + '__fp16'
        nodes.append(helper.make_node('Cast', [out_name + '__fp16'], [out_name], to=FLOAT, name='out__to_fp32'))
    # drop what is no longer used (the float16 -> float32 weight casts, converted constants)
    used = {i for n in nodes for i in n.input} | {out_name}
    changed = True
    while changed:
        changed = False
        for n in list(nodes):
            if not any(o in used for o in n.output):
                nodes.remove(n)
                changed = True
        used = {i for n in nodes for i in n.input} | {out_name}
    del g.node[:]
    g.node.extend(nodes)
    keep_inits = [i for i in list(g.initializer) + new_inits if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    del g.value_info[:]
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--fp32-ops', default='', help='op types kept in float32, comma-separated')
    a = ap.parse_args()
    m = onnx.load(a.src)
    before = sum(1 for n in m.graph.node)
    m = convert(m, {s for s in a.fp32_ops.split(',') if s})
    onnx.checker.check_model(m)
    shape_inference.infer_shapes(m, strict_mode=True)
    onnx.save(m, a.dst)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    halves = sum(1 for i in m.graph.initializer if i.data_type == HALF)
    print(f'gpu-fp16: {a.src} ({before} nodes) -> {a.dst} ({len(m.graph.node)} nodes, {ops.get("Cast", 0)} casts, '
          f'{halves} float16 initializers, onnx {onnx.__version__})')


if __name__ == '__main__':
    sys.exit(main())
