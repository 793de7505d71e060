"""The trained-model suite's models, trained here for real (npm run test:models; cached by this
file's hash under ${FOOD11_CACHE}/trained-models-<hash>):

    python train.py <out dir>

- `colours`: a small CNN with Keras' tutorial input (Rescaling(1/255) first, so it takes raw 0..255
  pixels) trained for a few epochs on generated 32x32 images of 6 learnable classes (a hue per
  class, with noise, stripes and brightness jitter);
- `mobilenet`: tf.keras.applications.MobileNetV2(alpha 1.0, 96x96, weights=None: none can be
  downloaded here) with the report's head (GlobalAveragePooling2D + Dense(11, softmax)), fed
  keras.applications.mobilenet_v2.preprocess_input outside the model (as the report did), trained
  for a few epochs on generated 96x96 images of 11 hue classes.

Each is saved as .keras, .h5 and a SavedModel (model.export); `colours` also as ONNX (tf2onnx).
Plus what the refusal tests need: a model with a custom layer (saved with a class the importer
cannot know), a corrupt .keras file, a 5-line labels file. The held-out images (never trained on)
are PNGs at the model's input size in Food-11's layout (<class>_<n>.png), with Keras' own
predictions on them (decoded by PIL, independent of the server) in predictions.json.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

keras.utils.set_random_seed(27)
OUT = sys.argv[1]


def images(classes, per_class, size, seed):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    yy, xx = np.mgrid[0:size, 0:size] / size
    for k in range(classes):
        hue = k / classes
        base = np.array([np.cos(2 * np.pi * (hue + o)) for o in (0, 1 / 3, 2 / 3)]) * 0.5 + 0.5
        for _ in range(per_class):
            img = np.ones((size, size, 3)) * base
            img *= rng.uniform(0.6, 1.0)
            f, a = rng.uniform(2, 8), rng.uniform(0, np.pi)
            img += 0.12 * np.sin(2 * np.pi * f * (xx * np.cos(a) + yy * np.sin(a)))[..., None]
            img += rng.normal(0, 0.06, img.shape)
            xs.append(np.clip(img * 255, 0, 255).astype(np.uint8))
            ys.append(k)
    return np.stack(xs), np.array(ys)


def save_all(model, name, onnx=False):
    model.save(os.path.join(OUT, f"{name}.keras"))
    model.save(os.path.join(OUT, f"{name}.h5"))
    model.export(os.path.join(OUT, f"{name}_savedmodel"), verbose=False)
    if onnx:
        import tf2onnx
        h, w, c = model.input_shape[1:]
        spec = (tf.TensorSpec((None, h, w, c), tf.float32, name="input"),)

        @tf.function(input_signature=spec)
        def forward(x):
            return model(x, training=False)

        tf2onnx.convert.from_function(forward, input_signature=spec, opset=17,
                                      output_path=os.path.join(OUT, f"{name}.onnx"))


def held_out(model, name, x, y, prep):
    d = os.path.join(OUT, f"{name}-heldout")
    os.makedirs(d, exist_ok=True)
    files = []
    for i, (img, k) in enumerate(zip(x, y)):
        f = f"{k}_{i}.png"
        Image.fromarray(img).save(os.path.join(d, f))
        files.append(f)
    # Keras' predictions on the files as PIL decodes them (not the server's decoder)
    pix = np.stack([np.asarray(Image.open(os.path.join(d, f)).convert("RGB")) for f in files]).astype("float32")
    probs = np.asarray(model(prep(pix), training=False))
    return {"files": files, "labels": [int(k) for k in y], "probs": probs.tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    report = {}
    # colours: Rescaling first (raw pixels), 6 classes, 32x32
    x, y = images(6, 60, 32, 1)
    xh, yh = images(6, 8, 32, 2)
    inp = keras.Input((32, 32, 3))
    h = keras.layers.Rescaling(1 / 255)(inp)
    h = keras.layers.Conv2D(16, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(32, 3, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(6, activation="softmax")(h)
    colours = keras.Model(inp, out, name="colours")
    colours.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = colours.fit(x.astype("float32"), y, epochs=12, batch_size=32, verbose=0, shuffle=True)
    report["colours"] = {"train_accuracy": float(hist.history["accuracy"][-1])}
    save_all(colours, "colours", onnx=True)
    report["colours"].update(held_out(colours, "colours", xh, yh, lambda p: p))
    with open(os.path.join(OUT, "colours-labels.txt"), "w") as f:
        f.write("\n".join(["red", "yellow", "green", "cyan", "blue", "magenta"]) + "\n")
    with open(os.path.join(OUT, "five-labels.txt"), "w") as f:
        f.write("a\nb\nc\nd\ne\n")

    # mobilenet: MobileNetV2 (weights=None) + the report's head, fed preprocess_input outside
    prep = keras.applications.mobilenet_v2.preprocess_input
    x, y = images(11, 24, 96, 3)
    xh, yh = images(11, 3, 96, 4)
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    h = keras.layers.GlobalAveragePooling2D()(base.output)
    out = keras.layers.Dense(11, activation="softmax")(h)
    mobilenet = keras.Model(base.input, out, name="food11_mobilenetv2")
    mobilenet.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = mobilenet.fit(prep(x.astype("float32")), y, epochs=6, batch_size=32, verbose=0, shuffle=True)
    report["mobilenet"] = {"train_accuracy": float(hist.history["accuracy"][-1]),
                           "params": int(mobilenet.count_params())}
    save_all(mobilenet, "mobilenet")
    report["mobilenet"].update(held_out(mobilenet, "mobilenet", xh, yh, prep))

    # a custom layer the importer's Keras cannot rebuild (the class is defined only here)
    @keras.saving.register_keras_serializable(package="train")
    class Doubler(keras.layers.Layer):
        def call(self, t):
            return t * 2.0

    inp = keras.Input((32, 32, 3))
    h = Doubler()(keras.layers.Rescaling(1 / 255)(inp))
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    keras.Model(inp, out).save(os.path.join(OUT, "custom-layer.keras"))
    with open(os.path.join(OUT, "colours.keras"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "corrupt.keras"), "wb") as f:
        f.write(data[: len(data) // 3])
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f)
    print(json.dumps({k: {"train_accuracy": v["train_accuracy"]} for k, v in report.items()}))


if __name__ == "__main__":
    main()
