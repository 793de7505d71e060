"""The Python half of `npm run model:import` (tools/model-import/src/import.ts drives it), run in
the project's pinned environment (tools/python). Two commands, each printing one JSON line:

    food11_model.py inspect --kind keras|h5|savedmodel|onnx SOURCE
        input size, outputs, and the preprocessing the model itself says it expects (a leading
        Rescaling layer or arithmetic on its input: it takes raw 0..255 pixels)
    food11_model.py convert --kind ... SOURCE --out STAGE --work WORK --inputs X.f32 --count N
        writes the formats into STAGE (saved_model/, model.onnx, tfjs/model.json where they can
        be made) and, into WORK, the reference's outputs on the N inputs (Keras' own model(x); a
        SavedModel's serving signature; an ONNX source's ONNX Runtime run) and each Python-run
        format's outputs, as float32 files.

A refusal (a file that does not load, a layer Keras cannot rebuild, an input that is not one NHWC
RGB image) exits 3 with one line `FOOD11_REFUSED: <why and what to do>` on stderr.
"""

import argparse
import importlib.metadata as md
import json
import os
import shutil
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

ONNX_OPSET = 17
SIGNATURE = "serving_default"
# Layers that are the identity at inference (data augmentation): looked through at the input.
AUGMENTATION = {"RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation",
                "RandomCrop", "RandomBrightness", "RandomHeight", "RandomWidth", "Dropout"}
ARITHMETIC = {"TrueDivide", "Divide", "Multiply", "Subtract", "Add", "Lambda"}


class Refused(Exception):
    pass


def emit(obj):
    print(json.dumps(obj), flush=True)


def versions():
    out = {}
    for name in ("tensorflow-cpu", "keras", "tf2onnx", "onnx", "onnxruntime", "tensorflowjs", "numpy"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


# ---- loading ---------------------------------------------------------------------------------

def load_keras(path, kind):
    import keras
    if not os.path.isfile(path):
        raise Refused(f"{path}: no such file")
    if kind == "keras":
        import zipfile
        if not zipfile.is_zipfile(path):
            raise Refused(f"{os.path.basename(path)} is not a Keras 3 .keras file: not a zip archive (corrupt, "
                          "truncated, or another format under a .keras name)")
    else:
        import h5py
        if not h5py.is_hdf5(path):
            raise Refused(f"{os.path.basename(path)} is not a Keras .h5 file: not HDF5 (corrupt, truncated, or "
                          "another format under a .h5 name)")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 - every load failure is the user's file
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        text = str(err)
        if "Could not locate class" in text or "Unknown layer" in text or "custom_objects" in text:
            raise Refused(
                f"unsupported layer in {os.path.basename(path)}: {msg}. The model uses a class Keras cannot "
                "rebuild here (a custom layer or one from another library). Fix: in the environment you trained "
                "in, where that class is defined, run model.export('saved_model_dir') and import that directory "
                "(a SavedModel needs no Python class to run)."
            ) from err
        if "Lambda" in text and "safe_mode" in text:
            raise Refused(
                f"unsupported layer in {os.path.basename(path)}: a Lambda layer (Python code Keras will not load "
                "from a file). Fix: run model.export('saved_model_dir') where you trained it and import that "
                "directory."
            ) from err
        what = "a Keras 3 .keras file (a zip archive)" if kind == "keras" else "a Keras .h5 file (HDF5)"
        raise Refused(f"cannot load {os.path.basename(path)} as {what}: {msg}") from err


def load_savedmodel(path):
    import tensorflow as tf
    try:
        loaded = tf.saved_model.load(path)
    except Exception as err:  # noqa: BLE001
        raise Refused(f"cannot load {path} as a TensorFlow SavedModel: {str(err).splitlines()[0]}") from err
    if SIGNATURE not in loaded.signatures:
        raise Refused(
            f"the SavedModel has no '{SIGNATURE}' signature (it has {sorted(loaded.signatures)}). Fix: save it "
            "with model.export(dir) (Keras 3) or tf.saved_model.save(model, dir, signatures=...)."
        )
    sig = loaded.signatures[SIGNATURE]
    inputs = sig.structured_input_signature[1]
    if len(inputs) != 1:
        raise Refused(f"the SavedModel's '{SIGNATURE}' takes {len(inputs)} inputs; one image input is needed")
    (in_name, spec), = inputs.items()
    return loaded, sig, in_name, tuple(spec.shape.as_list())


def load_onnx(path):
    import onnxruntime as ort
    try:
        return ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise Refused(f"cannot load {os.path.basename(path)} as an ONNX model: {str(err).splitlines()[0]}") from err


def check_input(shape, where):
    """[batch, H, W, 3] with H and W known."""
    shape = tuple(shape)
    if len(shape) != 4:
        raise Refused(f"{where}: the input must be a batch of images [batch, height, width, 3]; got {list(shape)}")
    if shape[1] == 3 and shape[3] != 3:
        raise Refused(f"{where}: the input is channels-first {list(shape)}; the server feeds NHWC [batch, height, width, 3]")
    if shape[3] != 3:
        raise Refused(f"{where}: the input has {shape[3]} channels; the server feeds RGB (3)")
    if not isinstance(shape[1], int) or not isinstance(shape[2], int) or shape[1] <= 0 or shape[2] <= 0:
        raise Refused(f"{where}: the input size is not fixed ({list(shape)}); the server resizes images to the "
                      "model's input size, so the model must state one (e.g. keras.Input((224, 224, 3)))")
    return [shape[1], shape[2], 3]


# ---- what the model says about its preprocessing --------------------------------------------

def first_operations(model):
    """The operations that consume the model's input, looking through nested models and augmentation."""
    import keras
    ops = [op for op in getattr(model, "operations", model.layers) if not isinstance(op, keras.layers.InputLayer)]
    first = ops[0] if ops else None
    while first is not None:
        name = type(first).__name__
        if isinstance(first, keras.Model):  # a nested Sequential / functional block
            inner = [op for op in getattr(first, "operations", first.layers)
                     if not isinstance(op, keras.layers.InputLayer)]
            first = inner[0] if inner else None
            ops = inner
            continue
        if name in AUGMENTATION and len(ops) > 1:
            ops = ops[1:]
            first = ops[0]
            continue
        return first
    return None


def detect_preprocess(model):
    op = first_operations(model)
    if op is None:
        return None, "the model has no layers to read"
    name = type(op).__name__
    if name == "Rescaling":
        scale = float(np.asarray(op.scale).reshape(-1)[0])
        offset = float(np.asarray(op.offset).reshape(-1)[0])
        inside = "x / 255" if abs(scale - 1 / 255) < 1e-6 and offset == 0 else (
            "x / 127.5 - 1" if abs(scale - 1 / 127.5) < 1e-6 and abs(offset + 1) < 1e-6 else "its own scaling")
        return "raw", (f"the model's first layer '{op.name}' (Rescaling) computes x * {scale:.6g} + {offset:g}, "
                       f"i.e. {inside} inside the model, so it takes raw 0..255 pixels")
    if name in ARITHMETIC:
        return "raw", (f"the model's first operation '{op.name}' ({name}) rescales its input inside the model, "
                       "so it takes raw 0..255 pixels")
    if name == "Normalization":
        return None, f"the model's first layer '{op.name}' is a Normalization layer, which does not say the input range"
    return None, f"the model's first layer '{op.name}' ({name}) does not rescale its input"


# ---- inspect ----------------------------------------------------------------------------------

def inspect(kind, source):
    if kind in ("keras", "h5"):
        model = load_keras(source, kind)
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise Refused(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; one each is needed")
        shape = check_input(model.inputs[0].shape, os.path.basename(source))
        out = model.outputs[0].shape
        detected, evidence = detect_preprocess(model)
        return {"input": shape, "classes": int(out[-1]), "outputRank": len(out), "name": model.name,
                "params": int(model.count_params()), "detected": detected, "evidence": evidence}
    if kind == "savedmodel":
        _, sig, _, shape = load_savedmodel(source)
        outs = sig.structured_outputs
        if len(outs) != 1:
            raise Refused(f"the SavedModel's '{SIGNATURE}' has {len(outs)} outputs; one is needed")
        out = list(outs.values())[0].shape
        return {"input": check_input(shape, source), "classes": int(out[-1]), "outputRank": len(out),
                "name": os.path.basename(os.path.normpath(source)), "detected": None,
                "evidence": "a SavedModel keeps no Keras layers to read"}
    sess = load_onnx(source)
    ins, outs = sess.get_inputs(), sess.get_outputs()
    if len(ins) != 1 or len(outs) != 1:
        raise Refused(f"the ONNX model has {len(ins)} inputs and {len(outs)} outputs; one each is needed")
    shape = [d if isinstance(d, int) else None for d in ins[0].shape]
    return {"input": check_input(shape, os.path.basename(source)), "classes": int(outs[0].shape[-1]),
            "outputRank": len(outs[0].shape), "name": os.path.splitext(os.path.basename(source))[0],
            "detected": None, "evidence": "an ONNX graph keeps no Keras layers to read"}


# ---- convert ----------------------------------------------------------------------------------

def batched(fn, x, batch=16):
    return np.concatenate([np.asarray(fn(x[i:i + batch]), dtype=np.float32) for i in range(0, len(x), batch)])


def tfjs_converter():
    """tensorflowjs' SavedModel converter without its package __init__ (which imports jax, tf_keras,
    the Keras converters) and with empty stand-ins for tensorflow_decision_forests and tensorflow_hub,
    which it imports at its top for TF-DF and TF-Hub models only (tools/python/requirements-no-deps.txt)."""
    import importlib.util
    spec = importlib.util.find_spec("tensorflowjs")
    if spec is None:
        raise ImportError("tensorflowjs is not installed")
    root = spec.submodule_search_locations[0]
    for name, path in (("tensorflowjs", root), ("tensorflowjs.converters", os.path.join(root, "converters"))):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module
    for name in ("tensorflow_decision_forests", "tensorflow_hub"):
        sys.modules.setdefault(name, types.ModuleType(name))
    from tensorflowjs.converters import tf_saved_model_conversion_v2
    return tf_saved_model_conversion_v2


def first_error_line(err):
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:300]


def convert(kind, source, stage, work, inputs_file, count, shape):
    import tensorflow as tf
    x = np.fromfile(inputs_file, dtype=np.float32).reshape([count, *shape])
    os.makedirs(stage, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    formats, runtimes = {}, {}
    v = versions()
    spec = (tf.TensorSpec((None, *shape), tf.float32, name="input"),)

    if kind in ("keras", "h5"):
        model = load_keras(source, kind)
        reference = batched(lambda b: model(b, training=False), x)
        ref_name = f"Keras {v.get('keras')} model(x) (TensorFlow {v.get('tensorflow-cpu')})"
        model.export(os.path.join(stage, "saved_model"), format="tf_saved_model", verbose=False)

        @tf.function(input_signature=spec)
        def forward(t):
            return model(t, training=False)
    elif kind == "savedmodel":
        _, sig, in_name, _ = load_savedmodel(source)
        run = lambda b: list(sig(**{in_name: tf.constant(b)}).values())[0]  # noqa: E731
        reference = batched(run, x)
        ref_name = f"the source SavedModel's {SIGNATURE} in TensorFlow {v.get('tensorflow-cpu')}"
        shutil.copytree(source, os.path.join(stage, "saved_model"))

        @tf.function(input_signature=spec)
        def forward(t):
            return list(sig(**{in_name: t}).values())[0]
    else:
        sess = load_onnx(source)
        name = sess.get_inputs()[0].name
        reference = batched(lambda b: sess.run(None, {name: b})[0], x)
        ref_name = f"the source ONNX model in ONNX Runtime {v.get('onnxruntime')}"
        shutil.copyfile(source, os.path.join(stage, "model.onnx"))
        formats["onnx"] = {"path": "model.onnx"}
        forward = None
    reference.astype(np.float32).tofile(os.path.join(work, "reference.f32"))

    if forward is not None:
        formats["savedmodel"] = {"path": "saved_model"}
        # The SavedModel as Python's TensorFlow runs it (used when tfjs-node cannot load here).
        loaded = tf.saved_model.load(os.path.join(stage, "saved_model"))
        sig = loaded.signatures[SIGNATURE]
        in_name = list(sig.structured_input_signature[1].keys())[0]
        batched(lambda b: list(sig(**{in_name: tf.constant(b)}).values())[0], x).tofile(
            os.path.join(work, "savedmodel-python.f32"))
        runtimes["savedmodel-python"] = f"TensorFlow {v.get('tensorflow-cpu')} (Python)"
        try:
            import tf2onnx
            tf2onnx.convert.from_function(forward, input_signature=spec, opset=ONNX_OPSET,
                                          output_path=os.path.join(stage, "model.onnx"))
            formats["onnx"] = {"path": "model.onnx", "opset": ONNX_OPSET}
        except Exception as err:  # noqa: BLE001 - recorded: the directory has no ONNX file then
            formats["onnx"] = {"error": f"tf2onnx {v.get('tf2onnx')}: {first_error_line(err)}"}
        try:
            tfjs_converter().convert_tf_saved_model(
                os.path.join(stage, "saved_model"), os.path.join(stage, "tfjs"),
                signature_def=SIGNATURE, saved_model_tags="serve")
            formats["tfjs"] = {"path": "tfjs/model.json"}
        except Exception as err:  # noqa: BLE001 - recorded: WASM cannot serve it then
            shutil.rmtree(os.path.join(stage, "tfjs"), ignore_errors=True)
            formats["tfjs"] = {"error": f"tensorflowjs {v.get('tensorflowjs')}: {first_error_line(err)}"}

    if "path" in formats.get("onnx", {}):
        import onnxruntime as ort
        sess = ort.InferenceSession(os.path.join(stage, "model.onnx"), providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        batched(lambda b: sess.run(None, {name: b})[0], x).tofile(os.path.join(work, "onnx.f32"))
        runtimes["onnx"] = f"ONNX Runtime {v.get('onnxruntime')} (Python)"
    return {"reference": ref_name, "formats": formats, "runtimes": runtimes, "tools": v}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["inspect", "convert"])
    p.add_argument("source")
    p.add_argument("--kind", required=True, choices=["keras", "h5", "savedmodel", "onnx"])
    p.add_argument("--out")
    p.add_argument("--work")
    p.add_argument("--inputs")
    p.add_argument("--count", type=int)
    p.add_argument("--shape")
    a = p.parse_args()
    try:
        if a.command == "inspect":
            emit(inspect(a.kind, a.source))
        else:
            shape = [int(s) for s in a.shape.split(",")]
            emit(convert(a.kind, a.source, a.out, a.work, a.inputs, a.count, shape))
    except Refused as err:
        print(f"FOOD11_REFUSED: {err}", file=sys.stderr, flush=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
