#!/usr/bin/env python3
"""Build the drum one-shot clip pack of the default suite (embedded) or of the full suite.

Usage: build_drums.py [--all-kits] OUT_DIR

Needs the Debian packages hydrogen-drumkits, fluid-soundfont-gm, fluidsynth and sox, and numpy.
Reads drumkit.xml of the kits whose licence lets the samples be redistributed alongside
MIT/Apache code (CC0, CC-BY-3.0, CC-BY-SA-3.0-us; the GPL kits are left out), or with
--all-kits (the full suite, which is not redistributed) of every kit in DRUMKITS, maps each
instrument name to one of five classes, keeps the loudest velocity layer of each instrument, and
converts it with sox to 8 kHz 16-bit mono, peak-normalized, leading silence (below 1 % of the
peak) trimmed, cut or zero-padded to exactly 0.5 s with a 50 ms fade-out, peak-normalized to
-1 dBFS. An instrument whose sample
another instrument of the same kit already uses is skipped (Millo_MultiLayered2 reuses three),
so that no recording lands in both splits. An instrument whose sample's file name contradicts
its class (see `mislabelled`), and a hi-hat or cymbal whose converted one-shot sounds like a
drum (more than half its energy below 150 Hz, see `too_low_for_metal`), are dropped after the
splits are assigned, so every other one-shot keeps its split. Sox reads the kits' WAV, AIFF and
FLAC files alike.

Then more training one-shots (never test ones) come from the drum kits of the FluidR3 GM
SoundFont (Debian fluid-soundfont-gm, MIT): each kit and kit variation of SOUNDFONT_KITS plays
each General MIDI note of SOUNDFONT_NOTES once at full velocity, rendered by fluidsynth (no
reverb or chorus, float samples) and converted like the kits' files; a rendering identical to
one already kept (kits share many samples) is skipped. The Orchestra kit is left out: its notes
41-53 are timpani.

Writes OUT_DIR/drums.pack.gz whose labels are class indices into CLASSES; each name is
"<split> <kit>/<instrument>/<file>", split being "train" or "test": within every class the
Hydrogen instruments are sorted by (kit, instrument) and every third one (index % 3 == 2) is
held out for the test mixtures, so test mixtures use recordings never heard in training; the
SoundFont ones are named "train FluidR3_GM/<kit>/<note> <GM name>". Prints the
number of train and test one-shots per class.
"""
import argparse
import hashlib
import io
import os
import re
import struct
import subprocess
import tempfile
import wave
import xml.etree.ElementTree as ET

import numpy as np

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
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
# Bank 128 presets (General MIDI percussion kits) of FluidR3_GM.sf2: seven of its eight kits (not
# the Orchestra kit), then their variations (a variation replaces some of its kit's samples).
SOUNDFONT_KITS = {0: "Standard", 8: "Room", 16: "Power", 24: "Electronic", 25: "TR-808",
                  32: "Jazz", 40: "Brush"}
SOUNDFONT_KITS.update({program: f"Standard {program}" for program in range(1, 8)})
SOUNDFONT_KITS.update({program: f"Room {program - 8}" for program in range(9, 16)})
SOUNDFONT_KITS.update({program: f"Power {program - 16}" for program in range(17, 20)})
SOUNDFONT_KITS.update({program: f"Jazz {program - 32}" for program in range(33, 37)})
SOUNDFONT_KITS.update({41: "Brush 1", 42: "Brush 2"})
# General MIDI percussion key map: note -> (class, name).
SOUNDFONT_NOTES = {
    35: ("kick", "Acoustic Bass Drum"), 36: ("kick", "Bass Drum 1"),
    38: ("snare", "Acoustic Snare"), 40: ("snare", "Electric Snare"),
    42: ("hihat", "Closed Hi-Hat"), 44: ("hihat", "Pedal Hi-Hat"), 46: ("hihat", "Open Hi-Hat"),
    41: ("tom", "Low Floor Tom"), 43: ("tom", "High Floor Tom"), 45: ("tom", "Low Tom"),
    47: ("tom", "Low-Mid Tom"), 48: ("tom", "Hi-Mid Tom"), 50: ("tom", "High Tom"),
    49: ("cymbal", "Crash Cymbal 1"), 51: ("cymbal", "Ride Cymbal 1"),
    52: ("cymbal", "Chinese Cymbal"), 55: ("cymbal", "Splash Cymbal"),
    57: ("cymbal", "Crash Cymbal 2"), 59: ("cymbal", "Ride Cymbal 2"),
}
EXCLUDE = r"roll"  # a snare roll is not a one-shot
NOT_A_DRUM = r"shake"  # a shaker filed under a drum's name


def mislabelled(cls, fname):
    """Whether the sample's own file name contradicts its instrument's class: it names another
    class, or a shaker (Audiophob's "Kick" is `…tom-0105.wav`, its "Pedal HH"
    `…fxshake5.wav`). Words in file names are split at every non-letter first."""
    words = re.sub(r"[^a-z]+", " ", os.path.basename(fname).lower())
    named = classify(words)
    return bool(re.search(NOT_A_DRUM, words)) or (named is not None and named != cls)


def too_low_for_metal(cls, wav):
    """Whether a hi-hat or cymbal one-shot has more than half of its energy below 150 Hz. Struck
    metal plates ring from a few hundred hertz up: in these kits every hi-hat and cymbal spends
    at most 43 % of its energy below 150 Hz except five instruments at 52-100 %, which sound
    like kick drums (rumpf_kit_z01's "cymbal 1": 100 %, nothing above 150 Hz;
    ElectricEmpireKit's "Hat Closed Bs", "Hat Ring 1", "Hat Ring 2" and "Hat Op Phaser")."""
    if cls not in ("hihat", "cymbal"):
        return False
    with wave.open(io.BytesIO(wav)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    power = np.abs(np.fft.rfft(samples - samples.mean())) ** 2
    hertz = np.fft.rfftfreq(len(samples), 1 / 8000)
    return power[hertz < 150].sum() > 0.5 * power.sum()


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


def midi_note(program, note):
    """A one-track Standard MIDI File: select drum kit `program` on channel 10, play `note` at
    velocity 127 and release it half a second (480 ticks at 120 bpm) later."""
    events = (bytes([0, 0xC9, program, 0, 0x99, note, 127])
              + bytes([0x83, 0x60, 0x89, note, 0])  # delta 480 as a variable-length quantity
              + bytes([0, 0xFF, 0x2F, 0]))
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
            + b"MTrk" + struct.pack(">I", len(events)) + events)


def soundfont_one_shots(tmp):
    """(label, name, wav) of every distinct one-shot of SOUNDFONT_KITS x SOUNDFONT_NOTES."""
    clips, seen = [], set()
    for program, kit in SOUNDFONT_KITS.items():
        for note, (cls, name) in sorted(SOUNDFONT_NOTES.items()):
            mid, raw = os.path.join(tmp, "note.mid"), os.path.join(tmp, "note.wav")
            with open(mid, "wb") as f:
                f.write(midi_note(program, note))
            subprocess.run(["fluidsynth", "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", "1",
                            "-r", "44100", "-O", "float", "-F", raw, SOUNDFONT, mid],
                           check=True, capture_output=True)
            wav = convert(raw, os.path.join(tmp, f"sf-{program}-{note}.wav"))
            digest = hashlib.sha256(wav).digest()
            if digest not in seen:
                seen.add(digest)
                clips.append((CLASSES.index(cls), f"train FluidR3_GM/{kit}/{note} {name}", wav))
    print(f"FluidR3_GM: {len(clips)} distinct one-shots")
    return clips


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
                if too_low_for_metal(cls, wav):
                    print(f"dropped, sounds like a drum: {split} {kit}/{name}/{fname} ({cls})")
                    continue
                clips.append((label, f"{split} {kit}/{name}/{fname}", wav))
        clips += soundfont_one_shots(tmp)
    write_pack(os.path.join(args.out_dir, "drums.pack.gz"), clips)
    print_split_counts(clips, CLASSES)
