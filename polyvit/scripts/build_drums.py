#!/usr/bin/env python3
"""Build the embedded drum one-shot clip pack of the default suite.

Usage: build_drums.py OUT_DIR

Needs the Debian packages hydrogen-drumkits and sox. Reads drumkit.xml of the kits whose
licence lets the samples be redistributed alongside MIT/Apache code (CC0, CC-BY-3.0,
CC-BY-SA-3.0-us; the GPL kits are left out), maps each instrument name to one of five classes,
keeps the loudest velocity layer of each instrument, and converts it with sox to 8 kHz 16-bit
mono, peak-normalized, leading silence (below 1 % of the peak) trimmed, cut or zero-padded to exactly 0.5 s with a 50 ms fade-out, peak-normalized to -1 dBFS.

Writes OUT_DIR/drums.pack.gz whose labels are class indices into CLASSES; each name is
"<split> <kit>/<instrument>/<file>", split being "train" or "test": within every class the
instruments are sorted by (kit, instrument) and every third one (index % 3 == 2) is held out
for the test mixtures, so test mixtures use recordings never heard in training.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from clip_pack import write_pack

DRUMKITS = "/usr/share/hydrogen/data/drumkits"
KITS = ["Audiophob", "BJA_Pacific", "rumpf_kit_z01_h2"]
CLASSES = ["kick", "snare", "hihat", "tom", "cymbal"]
PATTERNS = [
    ("kick", r"kick|bass ?drum"),
    ("snare", r"snare"),
    ("hihat", r"hi[- ]?hat|\bhh\b"),
    ("tom", r"\btom\b"),
    ("cymbal", r"crash|ride|splash|china|cymbal"),
]
EXCLUDE = r"roll"  # a snare roll is not a one-shot


def classify(name):
    low = name.lower()
    if re.search(EXCLUDE, low):
        return None
    for cls, pat in PATTERNS:
        if re.search(pat, low):
            return cls
    return None


def loudest_file(ins, ns):
    """The sample of the layer with the highest velocity (or the instrument's only file)."""
    best = None
    for layer in ins.iter(ns + "layer"):
        vmax = float(layer.findtext(ns + "max", "1"))
        fname = layer.findtext(ns + "filename")
        if fname and (best is None or vmax > best[0]):
            best = (vmax, fname)
    if best:
        return best[1]
    return ins.findtext(ns + "filename") or None


def instruments():
    """(class, kit, instrument name, sample path) for every usable instrument."""
    found = []
    for kit in KITS:
        root = ET.parse(os.path.join(DRUMKITS, kit, "drumkit.xml")).getroot()
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        for ins in root.iter(ns + "instrument"):
            name = (ins.findtext(ns + "name") or "").strip()
            cls = classify(name)
            fname = loudest_file(ins, ns)
            if cls and fname:
                found.append((cls, kit, name, fname))
    return found


def convert(src, dst):
    subprocess.run(["sox", "-V1", "-D", src, "-b", "16", dst, "channels", "1", "norm", "-1",
                    "silence", "1", "0.001", "1%", "trim", "0", "0.5", "pad", "0", "0.5",
                    "trim", "0", "0.5", "fade", "t", "0", "0.5", "0.05",
                    "rate", "8000", "norm", "-1"], check=True)
    with open(dst, "rb") as f:
        return f.read()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, cls in enumerate(CLASSES):
            members = sorted((kit, name, f) for c, kit, name, f in instruments() if c == cls)
            for i, (kit, name, fname) in enumerate(members):
                split = "test" if i % 3 == 2 else "train"
                wav = convert(os.path.join(DRUMKITS, kit, fname),
                              os.path.join(tmp, f"{label}-{i}.wav"))
                clips.append((label, f"{split} {kit}/{name}/{fname}", wav))
    write_pack(os.path.join(sys.argv[1], "drums.pack.gz"), clips)
