#!/usr/bin/env python3
"""Build labelled folders of pictures the image tasks never saw in training, to score a
checkpoint with `polyvit eval --checkpoint C --data DIR/<set>` (the README's "New pictures"
numbers; every set's scores are in docs/own-data.md).

Usage: python3 build_new_inputs.py POLYVIT_BINARY OUT_DIR [SKLEARN_WHEEL]

Needs numpy and Pillow; the fonts from Debian's `fonts-dejavu-core` and `fonts-dejavu-extra`;
and for the UCI sets the scikit-learn wheel (`pip download --no-deps scikit-learn==1.9.1`), which
carries `sklearn/datasets/data/digits.csv.gz`. Every set is one subfolder per class:

- mnist_dark: the MNIST test digits drawn dark on white, 5x larger (140x140);
- mnist_lit: the same lit from one side (brightness falling linearly to 55 % across the
  picture), as JPEG;
- mnist_shadow: the same under a shadow over the top-left corner (brightness 50 % there, with a
  soft edge 14 pixels wide), as JPEG;
- mnist_shadow_deep: the same with 35 % brightness under the shadow;
- mnist_shadow_band: the same under a shadow along the bottom 30 pixels (brightness 60 %, soft
  edge 10 pixels wide), as JPEG;
- mnist_shadow_round: the same under a round shadow over the top-right corner (brightness 50 %
  within 60 pixels of it, soft edge 20 pixels wide), as JPEG;
- uci, uci_dark: the 1,797 UCI 8x8 digits (other writers), upscaled to 28x28, as stored (light
  on dark) and inverted;
- fonts: the ten digits in each of the 22 DejaVu fonts, dark on white at 300x300;
- fashion_photos: the Fashion-MNIST test items as product photos: dark on white, 6x larger,
  anywhere on a 320x240 white picture.
Nothing is random but the product photos' places, drawn from a fixed seed.
"""

import glob
import gzip
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu"


def save(img, out, name, cls, fname):
    folder = os.path.join(out, name, str(cls))
    os.makedirs(folder, exist_ok=True)
    img.save(os.path.join(folder, fname))


def exported_test(binary, task, tmp):
    """(class name, greyscale array) of every test picture of an embedded task."""
    folder = os.path.join(tmp, task)
    subprocess.run([binary, "data", "export", task, folder], check=True, stdout=subprocess.DEVNULL)
    test = os.path.join(folder, "test")
    for cls in sorted(os.listdir(test)):
        for f in sorted(os.listdir(os.path.join(test, cls))):
            yield cls, f, np.asarray(Image.open(os.path.join(test, cls, f)).convert("L"))


def mnist_sets(binary, out, tmp):
    width = 140
    light = np.linspace(1.0, 0.55, width)[None, :]
    y, x = np.mgrid[0:width, 0:width]
    # 0 inside the corner's triangle (x + y < 84), 1 beyond its soft edge.
    edge = np.clip((x + y - 84) / 14.0, 0.0, 1.0)
    shadows = {
        "mnist_shadow": 0.5 + 0.5 * edge,
        "mnist_shadow_deep": 0.35 + 0.65 * edge,
        "mnist_shadow_band": 0.6 + 0.4 * np.clip((110 - y) / 10.0, 0.0, 1.0),
        "mnist_shadow_round": 0.5 + 0.5 * np.clip((np.hypot(y, x - width) - 60) / 20.0, 0.0, 1.0),
    }
    for cls, f, a in exported_test(binary, "mnist", tmp):
        dark = Image.fromarray(255 - a).resize((width, width), Image.BICUBIC)
        save(dark, out, "mnist_dark", cls, f)
        lit = (np.asarray(dark, dtype=np.float64) * light).round().astype(np.uint8)
        save(Image.fromarray(lit), out, "mnist_lit", cls, f[:-4] + ".jpg")
        for name, shadow in shadows.items():
            shaded = (np.asarray(dark, dtype=np.float64) * shadow).round().astype(np.uint8)
            save(Image.fromarray(shaded), out, name, cls, f[:-4] + ".jpg")


def fashion_photos(binary, out, tmp):
    rng = np.random.default_rng(0)
    for cls, f, a in exported_test(binary, "fashion_mnist", tmp):
        item = Image.fromarray(255 - a).resize((168, 168), Image.BICUBIC)
        page = Image.new("L", (320, 240), 255)
        page.paste(item, (int(rng.integers(0, 320 - 168)), int(rng.integers(0, 240 - 168))))
        save(page, out, "fashion_photos", cls, f)


def uci_sets(wheel, out):
    with zipfile.ZipFile(wheel) as z:
        text = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz")).decode()
    rows = np.loadtxt(text.splitlines(), delimiter=",")
    for i, row in enumerate(rows):
        pixels = (row[:64].reshape(8, 8) * 255 / 16).round().astype(np.uint8)
        digit = Image.fromarray(pixels).resize((28, 28), Image.BICUBIC)
        label = int(row[64])
        save(digit, out, "uci", label, f"{i:04d}.png")
        save(Image.fromarray(255 - np.asarray(digit)), out, "uci_dark", label, f"{i:04d}.png")


def fonts(out):
    for path in sorted(glob.glob(os.path.join(FONTS, "*.ttf"))):
        font = ImageFont.truetype(path, 200)
        for digit in range(10):
            page = Image.new("L", (300, 300), 255)
            ImageDraw.Draw(page).text((150, 150), str(digit), font=font, fill=0, anchor="mm")
            save(page, out, "fonts", digit, os.path.basename(path)[:-4] + ".png")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        mnist_sets(binary, out, tmp)
        fashion_photos(binary, out, tmp)
    fonts(out)
    if len(sys.argv) == 4:
        uci_sets(sys.argv[3], out)
    for name in sorted(os.listdir(out)):
        count = sum(len(files) for _, _, files in os.walk(os.path.join(out, name)))
        print(f"{name}: {count} pictures")


if __name__ == "__main__":
    main()
