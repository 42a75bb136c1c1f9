#!/usr/bin/env python3
"""Is the arrow-of-time task learnable from this footage at all? A check outside polyvit-rs.

    pip install torch numpy
    python3 polyvit/scripts/arrow_of_time_probe.py polyvit/data/video      # the embedded 32x32
    python3 polyvit/scripts/arrow_of_time_probe.py full-suite/video        # the full suite's 64x64

Builds the task the way `polyvit` does (src/data/arrow_of_time.rs): 8-frame clips with a stride
of 1-3 frames, played forward (label 0) or backwards (label 1); training clips from vtest, tree
and carphone without the last 20 % of each video (the validation segment), randomly mirrored
left-right unless --no-flip; the test clips from bikes, a video never trained on. It then trains
a small 3D convolutional network in PyTorch, whose first layers are motion filters by
construction, so a failure here is the data's and not the transformer's (`--model vit` trains
a transformer of polyvit's `small` shape instead). Prints accuracy on the training footage, the
validation segments and the test video every 500 steps, over every window of each split played
both ways (so chance is exactly 0.5).
"""

import argparse
import gzip
import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

FRAMES, MAX_STRIDE, VALIDATION_SEGMENT = 8, 3, 0.2
TRAIN_VIDEOS, TEST_VIDEO = ["vtest", "tree", "carphone"], "bikes"


def load_frames(path):
    """A frame stack (polyvit/data/README.md, "Frame stack format") as frames x H x W u8."""
    data = gzip.decompress(path.read_bytes())
    if data[:8] != b"PVFRAME1":
        raise SystemExit(f"{path}: not a frame stack")
    count, height, width = struct.unpack("<IHH", data[8:16])
    return np.frombuffer(data[16:], np.uint8).reshape(count, height, width)


def windows(video, frame_range):
    """(video, start, stride) of every window of FRAMES frames inside frame_range."""
    out = []
    for stride in range(1, MAX_STRIDE + 1):
        span = (FRAMES - 1) * stride + 1
        out += [(video, s, stride) for s in range(frame_range.start, frame_range.stop - span + 1)]
    return out


def clips(videos, wins, reverse, mirror):
    x = np.stack([videos[v][s : s + FRAMES * st : st] for v, s, st in wins]).astype(np.float32)
    x = np.where(reverse[:, None, None, None], x[:, ::-1], x)
    x = np.where(mirror[:, None, None, None], x[..., ::-1], x)
    x = torch.from_numpy(np.ascontiguousarray(x))[:, None] / 255.0
    # Per clip: zero mean, unit variance (both symmetric in time).
    x = x - x.mean(dim=(2, 3, 4), keepdim=True)
    return x / (x.std(dim=(2, 3, 4), keepdim=True) + 1e-3)


class SmallVit(nn.Module):
    """A ViT of polyvit's `small` preset (width 64, 4 pre-norm blocks of 4 heads, MLP 128, GELU,
    CLS token) on tubelets of 2 frames x side/4 x side/4: 64 per clip, as both suites cut them."""

    def __init__(self, side, width=64, depth=4, heads=4, mlp=128):
        super().__init__()
        p = side // 4
        self.embed = nn.Conv3d(1, width, (2, p, p), stride=(2, p, p))
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.position = nn.Parameter(torch.randn(1, 1 + (FRAMES // 2) * 16, width) * 0.02)
        block = nn.TransformerEncoderLayer(
            width, heads, mlp, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], 1) + self.position
        return self.head(self.norm(self.blocks(tokens))[:, 0])


def network():
    def block(cin, cout, stride):
        return [nn.Conv3d(cin, cout, 3, stride, 1), nn.BatchNorm3d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 32, (1, 2, 2)),
        *block(32, 64, (1, 2, 2)),
        *block(64, 64, (2, 2, 2)),
        *block(64, 64, (2, 2, 2)),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(64, 2),
    )


def accuracy(model, videos, wins):
    model.eval()
    correct = 0
    with torch.no_grad():
        for reverse in (False, True):
            for i in range(0, len(wins), 256):
                part = wins[i : i + 256]
                n = len(part)
                x = clips(videos, part, np.full(n, reverse), np.zeros(n, bool))
                correct += int((model(x).argmax(1) == int(reverse)).sum())
    model.train()
    return correct / (2 * len(wins))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video_dir", type=Path)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-flip", action="store_true")
    parser.add_argument("--model", choices=["cnn", "vit"], default="cnn")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    videos = [load_frames(args.video_dir / f"{n}.frames.gz") for n in TRAIN_VIDEOS + [TEST_VIDEO]]
    train, validation = [], []
    for v, frames in enumerate(videos[:-1]):
        cut = len(frames) - round(len(frames) * VALIDATION_SEGMENT)
        train += windows(v, range(0, cut))
        validation += windows(v, range(cut, len(frames)))
    test = windows(len(videos) - 1, range(0, len(videos[-1])))
    model = network() if args.model == "cnn" else SmallVit(videos[0].shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=0.01)
    shape = "x".join(map(str, videos[0].shape[1:]))
    print(f"{shape} frames; windows: train {len(train)}, validation {len(validation)}, test {len(test)}")
    losses = []
    for step in range(1, args.steps + 1):
        batch = [train[i] for i in rng.integers(0, len(train), 32)]
        reverse = rng.integers(0, 2, 32).astype(bool)
        mirror = rng.integers(0, 2, 32).astype(bool) & (not args.no_flip)
        loss = nn.functional.cross_entropy(
            model(clips(videos, batch, reverse, mirror)), torch.from_numpy(reverse.astype(np.int64))
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 500 == 0:
            print(
                f"step {step}: loss {np.mean(losses[-500:]):.3f}, accuracy on train "
                f"{accuracy(model, videos, train):.3f}, validation "
                f"{accuracy(model, videos, validation):.3f}, test {accuracy(model, videos, test):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
