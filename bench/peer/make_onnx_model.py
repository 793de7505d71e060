"""The ONNX Runtime reference's model: the benchmark's Keras model (make_keras_model.py) converted
with tf2onnx, input NHWC float32 [batch, H, W, 3] named "input", softmax output.

    python make_onnx_model.py <model.keras> <out.onnx> <opset>
"""

import json
import sys

import keras
import tensorflow as tf
import tf2onnx

src, out, opset = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = keras.models.load_model(src, compile=False)
h, w, ch = model.input_shape[1:]
spec = (tf.TensorSpec((None, h, w, ch), tf.float32, name="input"),)


@tf.function(input_signature=spec)
def forward(x):
    return model(x, training=False)


proto, _ = tf2onnx.convert.from_function(forward, input_signature=spec, opset=opset, output_path=out)
print(json.dumps({"onnx": out, "opset": opset, "nodes": len(proto.graph.node), "tf2onnx": tf2onnx.__version__}))
