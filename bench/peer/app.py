"""The original recipe's server, for the side-by-side benchmark (bench/peer/run.ts).

Shaped like the original Food-11 app: Flask + TensorFlow/Keras, the model loaded once at import,
`GET /test` classifies an image bundled with the server, `POST /predict` classifies a multipart
upload in field `file`; preprocessing is PIL's bicubic resize to 224x224 and pixels / 255; the
prediction is `model.predict` on a batch of one. Only what the benchmark needs was added: the
model and image paths come from the environment, the JSON answer also carries all 11
probabilities (for the agreement check), and `/healthz` tells the driver the model is loaded.

Run (production WSGI, as the original's container would): gunicorn -b 127.0.0.1:PORT app:app
or Flask's own server: python app.py (threaded, as `flask run`).
"""

import io
import os

import numpy as np
from flask import Flask, jsonify, request
from PIL import Image

from peer_labels import food11_labels

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (after the TF log level is set)

MODEL_PATH = os.environ.get("PEER_MODEL", "model.keras")
TEST_IMAGE = os.environ.get("PEER_TEST_IMAGE", "test.jpg")
IMG_SIZE = (224, 224)
LABELS = food11_labels()  # app/src/inference/labels.ts, the server's own list

app = Flask(__name__)
model = keras.models.load_model(MODEL_PATH, compile=False)


def prepare(img: Image.Image) -> np.ndarray:
    img = img.convert("RGB").resize(IMG_SIZE, Image.BICUBIC)
    x = np.asarray(img, dtype=np.float32) / 255.0
    return np.expand_dims(x, axis=0)


def classify(img: Image.Image):
    probs = model.predict(prepare(img), verbose=0)[0]
    i = int(np.argmax(probs))
    return jsonify(
        {
            "label": LABELS[i],
            "index": i,
            "probability": float(probs[i]),
            "probabilities": [float(p) for p in probs],
        }
    )


@app.route("/test")
def test():
    return classify(Image.open(TEST_IMAGE))


@app.route("/predict", methods=["POST"])
def predict():
    if "file" not in request.files:
        return jsonify({"error": "no file"}), 400
    return classify(Image.open(io.BytesIO(request.files["file"].read())))


@app.route("/healthz")
def healthz():
    return "ok"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), threaded=True)
