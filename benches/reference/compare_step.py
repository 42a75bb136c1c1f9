"""The training steps of `benchmarks::StepShape` (benches/src/lib.rs) in PyTorch, for
benches/compare.sh. Prints one JSON line with the same fields as `benches/src/bin/step.rs`.

Each step: forward, softmax cross-entropy, backward, global-norm clipping at 1.0, then SGD
(momentum 0.9, lr 0.01) or AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01, lr 1e-3), on a
fixed random batch. The model is a pre-LN ViT with tanh GELU, LayerNorm eps 1e-6, a CLS token
and learned position embeddings; the tokenizer is the usual strided convolution (Conv2d for
images and spectrograms, Conv3d over tubelets for video), which is the same product as our
linear projection of flattened patches.

    pip install torch==2.15.0
    python3 benches/reference/compare_step.py small sgd 10 3   # threads: --threads N

`--device cuda` times the step on a GPU (fp32 with TF32 off, each step waited for), for
benches/gpu-check.sh.
"""

import argparse
import json
import resource
import time

import torch
from torch import nn

CLASSES = 10

# name: (width, depth, heads, mlp, modality, example shape, patch, batch); as in StepShape.
SHAPES = {
    "small": (192, 6, 3, 768, "image", (3, 32, 32), (4, 4), 64),
    "vit224": (192, 12, 3, 768, "image", (3, 224, 224), (16, 16), 8),
    "suite-image": (64, 4, 4, 128, "image", (1, 28, 28), (7, 7), 32),
    "suite-video": (64, 4, 4, 128, "video", (8, 1, 32, 32), (2, 8, 8), 32),
    "suite-audio": (64, 4, 4, 128, "audio", (1, 64, 32), (2, 32), 32),
}


class Block(nn.Module):
    def __init__(self, width, heads, mlp):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.fc1 = nn.Linear(width, mlp)
        self.fc2 = nn.Linear(mlp, width)

    def forward(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1) * hd**-0.5).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x)), approximate="tanh"))


class ViT(nn.Module):
    def __init__(self, width, depth, heads, mlp, modality, example, patch):
        super().__init__()
        self.modality = modality
        if modality == "video":
            frames, channels, height, side = example
            self.patch_embed = nn.Conv3d(channels, width, patch, stride=patch)
            tokens = (frames // patch[0]) * (height // patch[1]) * (side // patch[2])
        else:
            channels, height, side = example
            self.patch_embed = nn.Conv2d(channels, width, patch, stride=patch)
            tokens = (height // patch[0]) * (side // patch[1])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, width) * 0.02)
        self.blocks = nn.Sequential(*[Block(width, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, CLASSES)

    def forward(self, inputs):
        if self.modality == "video":
            inputs = inputs.transpose(1, 2)  # [B, T, C, H, W] -> [B, C, T, H, W]
        x = self.patch_embed(inputs).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("optimizer", choices=["sgd", "adamw"])
    parser.add_argument("steps", type=int, nargs="?", default=10)
    parser.add_argument("warmup", type=int, nargs="?", default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    # Plain fp32 products on a GPU, as our OpenCL kernels compute them.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    width, depth, heads, mlp, modality, example, patch, batch = SHAPES[args.shape]
    model = ViT(width, depth, heads, mlp, modality, example, patch).to(device)
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
        )
    inputs = torch.randn(batch, *example).to(device)
    labels = (torch.arange(batch) % CLASSES).to(device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    ms = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        ms.append(round((time.perf_counter() - start) * 1e3, 3))
    print(json.dumps({
        "impl": f"torch {torch.__version__}",
        "shape": args.shape,
        "optimizer": args.optimizer,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "ms": ms,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
