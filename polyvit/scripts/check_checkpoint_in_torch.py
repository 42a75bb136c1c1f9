#!/usr/bin/env python3
"""Opens a polyvit-rs checkpoint in PyTorch and checks it from the outside.

    pip install torch safetensors
    polyvit train --steps 5 --preset tiny --output runs/tiny
    python3 polyvit/scripts/check_checkpoint_in_torch.py runs/tiny/checkpoint.safetensors

Loads the file with `safetensors.torch.load_file`, prints the model's tensors and the metadata,
checks the format version, that every optimizer state has its parameter with the same shape,
that the stored configuration is TOML, and recomputes the FNV-1a 64 checksum from its
definition in nn/src/checkpoint.rs (each field's bytes followed by its length as u64 LE; per
tensor in name order: name, dtype, shape as u64 LE, little-endian data; then every metadata
entry but the checksum, key then value, in key order). Exits non-zero on any mismatch.
"""

import struct
import sys
import tomllib

import torch
from safetensors import safe_open
from safetensors.torch import load_file

FNV_OFFSET, FNV_PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
# safetensors dtype name and little-endian NumPy type of each tensor dtype.
DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8")}


def fnv_fields(hash_value, *fields):
    for field in fields:
        for byte in field + struct.pack("<Q", len(field)):
            hash_value = ((hash_value ^ byte) * FNV_PRIME) & MASK
    return hash_value


def checksum(tensors, metadata):
    h = FNV_OFFSET
    for name in sorted(tensors, key=lambda n: n.encode()):
        t = tensors[name]
        shape = b"".join(struct.pack("<Q", d) for d in t.shape)
        dtype, little_endian = DTYPES[t.dtype]
        data = t.contiguous().numpy().astype(little_endian).tobytes()
        h = fnv_fields(h, name.encode(), dtype.encode(), shape, data)
    for key in sorted(metadata, key=lambda k: k.encode()):
        if key != "polyvit.checksum":
            h = fnv_fields(h, key.encode(), metadata[key].encode())
    return f"fnv1a64:{h:016x}"


def main(path):
    tensors = load_file(path)
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    model = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    optimizer = {k[len("optimizer."):]: v for k, v in tensors.items() if k.startswith("optimizer.")}
    for name, t in sorted(model.items()):
        print(f"{name:50} {str(tuple(t.shape)):>14} {t.dtype}")
    print(f"{len(model)} model tensors, {len(optimizer)} optimizer tensors")
    for key, value in sorted(metadata.items()):
        shown = value.replace("\n", "\\n")
        print(f"metadata {key} = {shown if len(shown) < 60 else shown[:57] + '...'}")
    problems = []
    if metadata.get("polyvit.format_version") != "2":
        problems.append(f"format version {metadata.get('polyvit.format_version')}, expected 2")
    for name, t in optimizer.items():
        param = name.split(".", 1)[1]
        if param not in model or model[param].shape != t.shape:
            problems.append(f"optimizer state {name} has no parameter of shape {tuple(t.shape)}")
    tomllib.loads(metadata["config"])
    if checksum(tensors, metadata) != metadata.get("polyvit.checksum"):
        problems.append(f"checksum {checksum(tensors, metadata)} != stored {metadata.get('polyvit.checksum')}")
    for p in problems:
        print("PROBLEM:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
