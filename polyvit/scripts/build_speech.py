#!/usr/bin/env python3
"""Build the spoken-digit clip packs of the default suite (embedded) or of the full suite.

Usage: build_speech.py [--per-language N] [--per-voice N] OUT_DIR

Needs the Debian packages espeak-ng, flite, festival, festvox-kallpc16k, festvox-kdlpc16k,
festvox-us-slt-hts, festvox-italp16k, festvox-itapc16k, festvox-ru, sox,
asterisk-core-sounds-{en,es,fr,it,ru}-wav and asterisk-prompt-it-menardi-wav. Writes
OUT_DIR/speech-synthetic.pack.gz (synthetic training clips) and OUT_DIR/speech-asterisk.pack.gz
(the 60 real recorded digits: the test set). --per-language (default 26) is the number of
espeak-ng clips per digit and language, --per-voice (default 6) the number of clips per digit
of each other synthesizer voice; the defaults build the embedded pack (1,960 clips), the full
suite takes 200 and 20 (12,200 clips).

Every clip is converted by sox to mono, peak-normalized, leading and trailing silence trimmed
(below 0.3 % of the peak for 20 ms), resampled to 8 kHz, peak-normalized again to -1 dBFS,
dither off (-D) so output is deterministic. The Asterisk test clips are stored as 16-bit PCM;
the espeak-ng training clips as 8-bit G.711 mu-law (WAV format tag 7, half the size; decoded
by polyvit/src/data/wav.rs), so that many more of them fit.

The espeak-ng clips speak the numeral "0".."9" in one of five languages (those of the Asterisk
voices), with an accent, voice variant (101), speed, pitch and sentence punctuation (which
changes the intonation) drawn from a fixed seed; two worker threads, each running one
synthesizer or sox process at a time, work in parallel; the output does not depend on their
number.

The other synthesizers add voices unlike espeak-ng's formant synthesis: flite's five English
voices and festival's diphone, unit-selection and HTS voices (English, Italian, Russian), each
speaking the digit as a word of its language, with a seeded random punctuation, tempo
(`sox tempo`, 0.8-1.25) and pitch shift (`sox pitch`, -300 to +300 cents) per clip.
"""
import argparse
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
import tempfile

from clip_pack import write_pack

SEED = 20240501
WORKERS = 2
PUNCTUATION = ["", ".", ".", "!", "?", ","]
LANGUAGES = {
    "en": ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc",
           "en-gb-x-gbclan", "en-gb-x-gbcwmd"],
    "es": ["es", "es-419"],
    "fr": ["fr-fr", "fr-be", "fr-ch"],
    "it": ["it"],
    "ru": ["ru", "ru-lv"],
}
DIGIT_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "it": ["zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"],
    "ru": ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"],
}
# (synthesizer, voice, language)
TTS_VOICES = [("flite", v, "en") for v in ["kal", "kal16", "awb", "rms", "slt"]] + [
    ("festival", "kal_diphone", "en"),
    ("festival", "ked_diphone", "en"),
    ("festival", "cmu_us_slt_arctic_hts", "en"),
    ("festival", "lp_diphone", "it"),
    ("festival", "pc_diphone", "it"),
    ("festival", "msu_ru_nsh_clunits", "ru"),
]
VARIANT_DIR = "/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v"
ASTERISK_DIR = "/usr/share/asterisk/sounds"
ASTERISK_VOICES = ["en_US_f_Allison", "es_MX_f_Allison", "fr_CA_f_June", "it_IT_f_Menardi",
                   "it_IT_m_Carlo", "ru_RU_f_IvrvoiceRU"]


def to_8k_trimmed(src, dst, encoding=("-b", "16")):
    subprocess.run(["sox", "-V1", "-D", src, *encoding, dst, "channels", "1", "norm", "-1",
                    "silence", "1", "0.02", "0.3%", "reverse", "silence", "1", "0.02", "0.3%",
                    "reverse", "rate", "8000", "norm", "-1"], check=True)
    with open(dst, "rb") as f:
        return f.read()


def synthesize(job):
    tmp, i, digit, voice, speed, pitch, text = job
    raw = os.path.join(tmp, f"raw-{i}.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw,
                    text], check=True)
    wav = to_8k_trimmed(raw, os.path.join(tmp, f"espeak-{i}.wav"), ("-e", "u-law", "-b", "8"))
    os.remove(raw)
    return (digit, f"espeak-ng -v {voice} -s {speed} -p {pitch} '{text}'", wav)


def run_with_progress(work, jobs, what, every=1000):
    """`work(job)` of every job on WORKERS threads, results in job order, with a line every
    `every` results (a full-suite build synthesizes for minutes)."""
    results = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for result in pool.map(work, jobs):
            results.append(result)
            if len(results) % every == 0 and len(results) < len(jobs):
                print(f"  {len(results)} of {len(jobs)} {what}", flush=True)
    return results


def espeak_clips(tmp, per_language):
    rng = random.Random(SEED)
    variants = sorted(os.listdir(VARIANT_DIR))
    jobs = []
    for digit in range(10):
        for lang, accents in LANGUAGES.items():
            for _ in range(per_language):
                voice = f"{rng.choice(accents)}+{rng.choice(variants)}"
                speed = rng.randint(100, 220)
                pitch = rng.randint(10, 90)
                text = f"{digit}{rng.choice(PUNCTUATION)}"
                jobs.append((tmp, len(jobs), digit, voice, speed, pitch, text))
    return run_with_progress(synthesize, jobs, "espeak-ng clips")


def tts_synthesize(job):
    tmp, i, digit, engine, voice, text, tempo, cents = job
    raw = os.path.join(tmp, f"tts-raw-{i}.wav")
    if engine == "flite":
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", raw], check=True)
    else:
        subprocess.run(["text2wave", "-eval", f"(voice_{voice})", "-o", raw], input=text.encode(),
                       check=True, stderr=subprocess.DEVNULL)
    varied = os.path.join(tmp, f"tts-varied-{i}.wav")
    subprocess.run(["sox", "-V1", "-D", raw, varied, "tempo", "-s", f"{tempo:.3f}",
                    "pitch", str(cents)], check=True)
    wav = to_8k_trimmed(varied, os.path.join(tmp, f"tts-{i}.wav"), ("-e", "u-law", "-b", "8"))
    os.remove(raw)
    os.remove(varied)
    return (digit, f"{engine} {voice} tempo {tempo:.3f} pitch {cents} '{text}'", wav)


def tts_clips(tmp, per_voice):
    rng = random.Random(SEED + 1)
    jobs = []
    for digit in range(10):
        for engine, voice, lang in TTS_VOICES:
            for _ in range(per_voice):
                text = f"{DIGIT_WORDS[lang][digit]}{rng.choice(PUNCTUATION)}"
                tempo = rng.uniform(0.8, 1.25)
                cents = rng.randint(-300, 300)
                jobs.append((tmp, len(jobs), digit, engine, voice, text, tempo, cents))
    return run_with_progress(tts_synthesize, jobs, "flite and festival clips")


def asterisk_clips(tmp):
    clips = []
    for voice in ASTERISK_VOICES:
        for digit in range(10):
            src = os.path.join(ASTERISK_DIR, voice, "digits", f"{digit}.wav")
            wav = to_8k_trimmed(src, os.path.join(tmp, f"{voice}-{digit}.wav"))
            clips.append((digit, f"asterisk {voice}/digits/{digit}.wav", wav))
    return clips


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-language", type=int, default=26)
    parser.add_argument("--per-voice", type=int, default=6)
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        write_pack(os.path.join(args.out_dir, "speech-synthetic.pack.gz"),
                   espeak_clips(tmp, args.per_language) + tts_clips(tmp, args.per_voice))
        write_pack(os.path.join(args.out_dir, "speech-asterisk.pack.gz"), asterisk_clips(tmp))
