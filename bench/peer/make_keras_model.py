"""Writes our tfjs demo model's weights into the same architecture in Keras, saved as .keras.

    python make_keras_model.py <tfjs model dir (model.json + shards)> <out.keras>

The Keras model is tf.keras.applications.MobileNetV2(weights=None, include_top=False,
input_shape=(224, 224, 3)) + GlobalAveragePooling2D + Dense(11, softmax). Our demo model uses
Keras' layer names, so the weights are mapped layer by layer by name; every weight of both models
must be used exactly once, with the same shape, or this fails.
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402

EXPECTED_PARAMS = 2_272_075


def read_tfjs_weights(model_dir: str) -> dict[str, np.ndarray]:
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        manifest = json.load(f)["weightsManifest"]
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise SystemExit(f"unsupported weight encoding for {w['name']}")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(buf, dtype="<f4", count=n, offset=offset).reshape(w["shape"])
            offset += 4 * n
        if offset != len(buf):
            raise SystemExit(f"weight group {group['paths']}: {len(buf) - offset} bytes left over")
    return out


def build_keras_model() -> keras.Model:
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(224, 224, 3))
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pooling2d")(base.output)
    out = keras.layers.Dense(11, activation="softmax", name="dense")(x)
    return keras.Model(base.input, out, name="food11_mobilenetv2_demo")


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    weights = read_tfjs_weights(src)
    model = build_keras_model()
    if model.count_params() != EXPECTED_PARAMS:
        raise SystemExit(f"Keras model has {model.count_params()} params, expected {EXPECTED_PARAMS}")
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        # tfjs keeps Keras' per-layer weight order (kernel, bias; gamma, beta, mean, variance).
        names = [k for k in weights if k.startswith(layer.name + "/")]
        if len(names) != len(layer.weights):
            raise SystemExit(f"layer {layer.name}: Keras has {len(layer.weights)} weights, tfjs {names}")
        values = [weights[k] for k in names]
        for v, k, w in zip(values, names, layer.weights):
            if tuple(v.shape) != tuple(w.shape):
                raise SystemExit(f"{k}: tfjs shape {v.shape} != Keras {w.shape}")
        layer.set_weights(values)
        used.update(names)
    unused = sorted(set(weights) - used)
    if unused:
        raise SystemExit(f"tfjs weights not mapped: {unused[:5]}... ({len(unused)})")
    model.save(dst)
    print(json.dumps({"keras": dst, "params": model.count_params(), "weights": len(used)}))


if __name__ == "__main__":
    main()
