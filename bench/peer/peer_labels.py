"""The 11 Food-11 classes in the model's output order, read from the server's own list
(app/src/inference/labels.ts, FOOD11_LABELS), so that the peer and ours name them alike."""

import os
import re

LABELS_TS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "app", "src", "inference", "labels.ts"
)


def food11_labels(path: str = LABELS_TS) -> list:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"FOOD11_LABELS\b[^=]*=[^\[]*\[(.*?)\]", text, re.S)
    labels = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)) if m else []
    if len(labels) != 11:
        raise ValueError(f"{path}: expected the 11 FOOD11_LABELS, found {len(labels)}")
    return labels
