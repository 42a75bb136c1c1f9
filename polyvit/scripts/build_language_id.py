#!/usr/bin/env python3
"""Build the spoken-language identification clip pack of the full suite.

Usage: build_language_id.py OUT_DIR

Needs sox and the Debian packages asterisk-core-sounds-{en,es,fr,it,ru}-wav and
asterisk-prompt-it-menardi-wav. Every WAV prompt under /usr/share/asterisk/sounds/<voice>/ of the
six Asterisk voices of build_speech.py becomes one clip, processed like the spoken-digit clips
(build_speech.to_8k_trimmed: mono, peak-normalized, leading and trailing silence trimmed, 8 kHz,
-1 dBFS, 16-bit PCM), labelled with the index of the voice's language in LANGUAGES. Clips keep
their whole length (mostly 0.3-5 s, a few over a minute).

Left out: digits/ (the spoken-digit test set of the suite), silence/ (1-10 s of near-zero
samples, which peak normalization would turn into full-scale noise) and the non-speech prompts
of NON_SPEECH (the same tones and monkey screeches in every language). Files that sox cannot
read, or that hold no samples, are skipped with a message.

Writes OUT_DIR/language-id.pack.gz; each name is "<split> <voice>/<path in the voice dir>",
split being "test" when the CRC-32 of the path in the voice dir is 0 mod 5, else "train": a
prompt (e.g. vm-goodbye.wav) is in the same split in every language, so the words of a test
prompt are never heard in training, in any language. The speakers are not split:
en_US_f_Allison and es_MX_f_Allison are the same speaker, and Italian has two voices.
Prints the number of train and test clips per language.
"""
import argparse
import io
import os
import subprocess
import tempfile
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor

from build_speech import ASTERISK_DIR, ASTERISK_VOICES, WORKERS, to_8k_trimmed
from clip_pack import print_split_counts, write_pack

LANGUAGES = ["en", "es", "fr", "it", "ru"]
EXCLUDED_DIRS = ("digits/", "silence/")
NON_SPEECH = {"beep.wav", "beeperr.wav", "ascending-2tone.wav", "descending-2tone.wav",
              "tt-monkeys.wav"}


def prompts():
    """(voice, path relative to the voice dir) of every prompt kept, sorted."""
    found = []
    for voice in ASTERISK_VOICES:
        root = os.path.join(ASTERISK_DIR, voice)
        for folder, _, files in os.walk(root):
            for f in files:
                rel = os.path.relpath(os.path.join(folder, f), root)
                if (f.endswith(".wav") and not rel.startswith(EXCLUDED_DIRS)
                        and rel not in NON_SPEECH):
                    found.append((voice, rel))
    return sorted(found)


def convert(job):
    """The clip (label, name, WAV bytes) of one prompt, or None (with a message) if unusable."""
    tmp, i, voice, rel = job
    dst = os.path.join(tmp, f"{i}.wav")
    try:
        wav = to_8k_trimmed(os.path.join(ASTERISK_DIR, voice, rel), dst)
    except subprocess.CalledProcessError:
        print(f"skipped {voice}/{rel}: sox cannot read it")
        return None
    finally:
        if os.path.exists(dst):
            os.remove(dst)
    if wave.open(io.BytesIO(wav)).getnframes() == 0:
        print(f"skipped {voice}/{rel}: no samples")
        return None
    split = "test" if zlib.crc32(rel.encode()) % 5 == 0 else "train"
    return (LANGUAGES.index(voice[:2]), f"{split} {voice}/{rel}", wav)


def print_durations(clips):
    secs = sorted(wave.open(io.BytesIO(wav)).getnframes() / 8000 for _, _, wav in clips)
    print(f"  durations {secs[0]:.2f}-{secs[-1]:.2f} s, median {secs[len(secs) // 2]:.2f} s, "
          f"mean {sum(secs) / len(secs):.2f} s, total {sum(secs) / 3600:.2f} h; "
          f"{sum(s > 1 for s in secs)} longer than 1 s, {sum(s > 10 for s in secs)} than 10 s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(tmp, i, voice, rel) for i, (voice, rel) in enumerate(prompts())]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            clips = [c for c in pool.map(convert, jobs) if c]
    write_pack(os.path.join(args.out_dir, "language-id.pack.gz"), clips)
    print_split_counts(clips, LANGUAGES)
    print_durations(clips)
