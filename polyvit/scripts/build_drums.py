#!/usr/bin/env python3
"""Build the drum one-shot clip pack of the default suite (embedded) or of the full suite.

Usage: build_drums.py [--all-kits] OUT_DIR

Needs the Debian packages hydrogen-drumkits and sox. Reads drumkit.xml of the kits whose
licence lets the samples be redistributed alongside MIT/Apache code (CC0, CC-BY-3.0,
CC-BY-SA-3.0-us; the GPL kits are left out), or with --all-kits (the full suite, which is not
redistributed) of every kit in DRUMKITS, maps each instrument name to one of five classes,
keeps the loudest velocity layer of each instrument, and converts it with sox to 8 kHz 16-bit
mono, peak-normalized, leading silence (below 1 % of the peak) trimmed, cut or zero-padded to
exactly 0.5 s with a 50 ms fade-out, peak-normalized to -1 dBFS. An instrument whose sample
another instrument of the same kit already uses is skipped (Millo_MultiLayered2 reuses three),
so that no recording lands in both splits. An instrument whose sample's file name contradicts
its class (see `mislabelled`) is dropped after the splits are assigned, so every other one-shot
keeps its split. Sox reads the kits' WAV, AIFF and FLAC files alike.

Writes OUT_DIR/drums.pack.gz whose labels are class indices into CLASSES; each name is
"<split> <kit>/<instrument>/<file>", split being "train" or "test": within every class the
instruments are sorted by (kit, instrument) and every third one (index % 3 == 2) is held out
for the test mixtures, so test mixtures use recordings never heard in training. Prints the
number of train and test one-shots per class.
"""
import argparse
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from clip_pack import print_split_counts, write_pack

DRUMKITS = "/usr/share/hydrogen/data/drumkits"
KITS = ["Audiophob", "BJA_Pacific", "rumpf_kit_z01_h2"]
CLASSES = ["kick", "snare", "hihat", "tom", "cymbal"]
PATTERNS = [
    ("kick", r"kick|bass ?drum"),
    ("snare", r"snare"),
    ("hihat", r"hi[- ]?hat|\bhh\b|\bhat\b"),
    ("tom", r"\btom\b"),
    ("cymbal", r"crash|ride|splash|china|cymbal"),
]
EXCLUDE = r"roll"  # a snare roll is not a one-shot
NOT_A_DRUM = r"shake"  # a shaker filed under a drum's name


def mislabelled(cls, fname):
    """Whether the sample's own file name contradicts its instrument's class: it names another
    class, or a shaker (Audiophob's "Kick" is `…tom-0105.wav`, its "Pedal HH"
    `…fxshake5.wav`). Words in file names are split at every non-letter first."""
    words = re.sub(r"[^a-z]+", " ", os.path.basename(fname).lower())
    named = classify(words)
    return bool(re.search(NOT_A_DRUM, words)) or (named is not None and named != cls)


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


def instruments(kits):
    """(class, kit, instrument name, sample path) for every usable instrument of the kits."""
    found = []
    for kit in kits:
        root = ET.parse(os.path.join(DRUMKITS, kit, "drumkit.xml")).getroot()
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        used, unclassified, reused = set(), 0, 0
        for ins in root.iter(ns + "instrument"):
            name = (ins.findtext(ns + "name") or "").strip()
            cls = classify(name)
            fname = loudest_file(ins, ns)
            if not fname:
                continue
            if not cls:
                unclassified += 1
            elif fname in used:
                reused += 1
            else:
                used.add(fname)
                found.append((cls, kit, name, fname))
        print(f"{kit}: {len(used)} instruments kept, {unclassified} not classified, "
              f"{reused} skipped (sample already kept)")
    return found


def convert(src, dst):
    subprocess.run(["sox", "-V1", "-D", src, "-b", "16", dst, "channels", "1", "norm", "-1",
                    "silence", "1", "0.001", "1%", "trim", "0", "0.5", "pad", "0", "0.5",
                    "trim", "0", "0.5", "fade", "t", "0", "0.5", "0.05",
                    "rate", "8000", "norm", "-1"], check=True)
    with open(dst, "rb") as f:
        return f.read()


def all_kits():
    return sorted(k for k in os.listdir(DRUMKITS)
                  if os.path.isfile(os.path.join(DRUMKITS, k, "drumkit.xml")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all-kits", action="store_true")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    found = instruments(all_kits() if args.all_kits else KITS)
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, cls in enumerate(CLASSES):
            members = sorted((kit, name, f) for c, kit, name, f in found if c == cls)
            for i, (kit, name, fname) in enumerate(members):
                split = "test" if i % 3 == 2 else "train"
                if mislabelled(cls, fname):
                    print(f"dropped, mislabelled: {split} {kit}/{name}/{fname} ({cls})")
                    continue
                wav = convert(os.path.join(DRUMKITS, kit, fname),
                              os.path.join(tmp, f"{label}-{i}.wav"))
                clips.append((label, f"{split} {kit}/{name}/{fname}", wav))
    write_pack(os.path.join(args.out_dir, "drums.pack.gz"), clips)
    print_split_counts(clips, CLASSES)
