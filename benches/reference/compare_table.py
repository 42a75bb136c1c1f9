"""Turns the JSON lines of benches/compare.sh (a machine line, peak lines, then step lines from
`step` and compare_step.py) into the markdown table it prints. Standard library only."""

import json
import statistics
import sys
from collections import defaultdict

OURS = "polyvit-rs"


def main():
    machine, peaks, samples, rss, meta = None, {}, defaultdict(list), defaultdict(float), {}
    for line in sys.stdin:
        record = json.loads(line)
        if "cpu" in record:
            machine = record
        elif "peak_gflops" in record:
            peaks[record["threads"]] = (record["peak_gflops"], record["isa"])
        else:
            side = "ours" if record["impl"] == OURS else "torch"
            key = (record["shape"], record["optimizer"], record["threads"])
            samples[key, side].extend(record["ms"])
            rss[key, side] = max(rss[key, side], record["peak_rss_mib"])
            if side == "ours":
                meta[key] = (record["batch"], record["flops"])
            else:
                meta.setdefault(("torch",) + key, record["impl"])
    print(f"CPU: {machine['cpu']} ({machine['cores']} cores); features: {machine['features']}; "
          f"PyTorch's CPU capability: {machine['torch_capability']}")
    for threads, (gflops, isa) in sorted(peaks.items()):
        print(f"measured FMA peak, {threads} thread(s): {gflops:.0f} GFLOP/s ({isa})")
    print()
    print("| shape | optimizer | threads | side | ms/step (median, min–max) | images/s | GFLOP/s "
          "| % of peak | peak RSS MiB | ours / PyTorch |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for key in meta:
        if key[0] == "torch":
            continue
        shape, optimizer, threads = key
        batch, flops = meta[key]
        medians = {}
        for side in ("ours", "torch"):
            ms = samples[key, side]
            if not ms:
                continue
            median = statistics.median(ms)
            medians[side] = median
            gflops = flops / (median / 1e3) / 1e9
            peak = peaks.get(threads, (float("nan"), ""))[0]
            ratio = f"**{medians['ours'] / median:.2f}**" if side == "torch" else ""
            name = OURS if side == "ours" else meta.get(("torch",) + key, "torch")
            print(f"| {shape} | {optimizer} | {threads} | {name} | {median:.1f} "
                  f"({min(ms):.1f}–{max(ms):.1f}) | {batch / (median / 1e3):.0f} | {gflops:.0f} "
                  f"| {100 * gflops / peak:.0f} % | {rss[key, side]:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
