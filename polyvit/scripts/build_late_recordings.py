#!/usr/bin/env python3
"""Copy a folder task of WAV clips with a stretch of faint noise before and after each clip, as
recordings made by pressing a key, waiting and then speaking are: the folder for the
measurement of docs/own-data.md ("Sounds heard around their loudest second").

Usage: python3 build_late_recordings.py SRC DST SEED BEFORE_MIN BEFORE_MAX

Needs numpy. Every 16-bit mono WAV under SRC (`polyvit data export spoken_digits SRC`) is
written to the same place under DST with BEFORE_MIN to BEFORE_MAX seconds (uniform) of silence
before it and 0.3 to 1 s after, then Gaussian noise 55 dB under full scale over the whole, drawn
with SEED.
"""
import os
import sys
import wave
from pathlib import Path

import numpy as np


def main():
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    seed, before_min, before_max = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    rng = np.random.default_rng(seed)
    for path in sorted(src.rglob("*.wav")):
        with wave.open(str(path)) as w:
            if (w.getsampwidth(), w.getnchannels()) != (2, 1):
                sys.exit(f"{path}: not 16-bit mono")
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
        before = np.zeros(int(rate * rng.uniform(before_min, before_max)))
        after = np.zeros(int(rate * rng.uniform(0.3, 1.0)))
        y = np.concatenate([before, x, after])
        y += rng.normal(0.0, 32768 * 10 ** (-55 / 20), len(y))
        out = dst / path.relative_to(src)
        os.makedirs(out.parent, exist_ok=True)
        with wave.open(str(out), "wb") as o:
            o.setnchannels(1)
            o.setsampwidth(2)
            o.setframerate(rate)
            o.writeframes(np.clip(np.round(y), -32768, 32767).astype(np.int16).tobytes())


if __name__ == "__main__":
    main()
