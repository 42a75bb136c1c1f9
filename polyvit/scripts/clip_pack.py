"""Writer of the clip pack format read by polyvit/src/data/pack.rs.

A clip pack is one gzip stream (mtime 0, no file name, so builds are byte-reproducible) of:
    magic   8 bytes  b"PVCLIPS1"
    count   u32 LE   number of clips
    count times:
        label     u16 LE   class index
        name_len  u16 LE   length of name in bytes
        name      UTF-8    where the clip came from (voice, kit, instrument ...)
        wav_len   u32 LE   length of the WAV file in bytes
        wav       bytes    a complete RIFF/WAVE PCM file
"""
import gzip
import os
import struct


def write_pack(path, clips):
    """clips: list of (label: int, name: str, wav_bytes: bytes)."""
    out = [b"PVCLIPS1", struct.pack("<I", len(clips))]
    for label, name, wav in clips:
        name_b = name.encode("utf-8")
        out.append(struct.pack("<HH", label, len(name_b)))
        out.append(name_b)
        out.append(struct.pack("<I", len(wav)))
        out.append(wav)
    with open(path, "wb") as f:
        f.write(gzip.compress(b"".join(out), compresslevel=9, mtime=0))
    print(f"{path}: {len(clips)} clips, {os.path.getsize(path):,} bytes")


def print_split_counts(clips, classes):
    """Print, per class, how many clips are named "train ..." and how many "test ..."."""
    for label, cls in enumerate(classes):
        names = [name for lab, name, _ in clips if lab == label]
        train = sum(name.startswith("train ") for name in names)
        print(f"  {label} {cls}: {train} train / {len(names) - train} test")
