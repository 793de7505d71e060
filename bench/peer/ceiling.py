"""TensorFlow's own batched inference throughput on this machine: the practical ceiling.

    python ceiling.py <model.keras> [--batch 32] [--seconds 20]

Loads the .keras model, warms up, then for about `seconds` each measures
  - `model.predict(x, batch_size=B)` on batches of B images (Keras' inference loop), and
  - `model.predict_on_batch(x)` (one compiled call per batch, no loop overhead),
plus `model.predict` on one image at a time (the original server's per-request call).
Prints one JSON object (images per second for each, and the thread settings TF used).
Inputs are random in [0, 1): the network's cost does not depend on pixel values.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def timed(fn, images_per_call: int, seconds: float) -> dict:
    fn()  # one more warm-up call
    calls = 0
    t0 = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and calls >= 3:
            break
    return {
        "calls": calls,
        "seconds": round(elapsed, 3),
        "imagesPerSec": round(calls * images_per_call / elapsed, 2),
        "msPerCall": round(1000 * elapsed / calls, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    model = keras.models.load_model(a.model, compile=False)
    rng = np.random.default_rng(7)
    xb = rng.random((a.batch, 224, 224, 3), dtype=np.float32)
    x1 = xb[:1]
    model.predict(xb, batch_size=a.batch, verbose=0)
    model.predict_on_batch(xb)
    model.predict(x1, verbose=0)
    out = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "batch": a.batch,
        "intraOpThreads": tf.config.threading.get_intra_op_parallelism_threads(),
        "interOpThreads": tf.config.threading.get_inter_op_parallelism_threads(),
        "predictBatch": timed(lambda: model.predict(xb, batch_size=a.batch, verbose=0), a.batch, a.seconds),
        "predictOnBatch": timed(lambda: model.predict_on_batch(xb), a.batch, a.seconds),
        "predictSingle": timed(lambda: model.predict(x1, verbose=0), 1, a.seconds / 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
