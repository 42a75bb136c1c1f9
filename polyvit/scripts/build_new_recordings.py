#!/usr/bin/env python3
"""Build labelled folders of the spoken-digit test voices recorded as a user's own recordings
would be, to score a checkpoint with `polyvit eval --checkpoint C --data DIR/<set> --task
spoken_digits` (the numbers of EXPERIMENTS.md's "Spoken digits: recordings of one's own").

Usage: python3 build_new_recordings.py POLYVIT_BINARY OUT_DIR

Needs numpy. Starts from the 60 real test recordings (`polyvit data export spoken_digits`: six
Asterisk voices, 8 kHz telephone speech) and writes 16-bit WAV files, one subfolder per digit:

- as_is: the recordings as exported (8 kHz mono);
- wideband: resampled to 44.1 kHz (band-limited, by FFT), stereo;
- quiet: wideband, 35 dB quieter;
- room_noise_35db, room_noise_20db: wideband after 1 s and before 0.5 s of silence, with pink
  noise throughout at 35 dB (20 dB) under the speech's level (the RMS of its samples above 2 %
  of its peak);
- white_noise_25db: wideband within 0.5 s of silence on each side, white noise at 25 dB under
  the speech;
- hum_50hz: as room_noise, with 50 Hz mains hum and its 2nd and 3rd harmonics (amplitudes 1,
  1/2, 1/3) at a tenth of the speech's level instead of the noise;
- hum_60hz_mild: as white_noise, with 60 Hz hum at three hundredths of the speech's level;
- reverb_strong, reverb_mild: wideband convolved with a synthetic room: the direct sound then
  Gaussian noise decaying by 60 dB in 0.4 s (0.3 s), at 8 % (2 %) of the direct sound's
  amplitude (about 9 dB more reverberant than direct sound; 4 dB less), peak at half scale;
- room_noise_20db_x4, white_noise_20db_x2: as room_noise_20db, in four draws of the pink noise
  (240 recordings, `NAME-K.wav`), and in two draws of white noise 20 dB under the speech (120):
  more noise draws, so that a score moves less with the draw;
- clicks: as room_noise_35db (its own draw of the noise), with a click 50 ms after the start
  and another 50 ms before the end (5 ms of exponentially decaying noise, as loud as the
  speech's peak), as the key that starts and stops a recording makes;
- clipped_2x, clipped_4x: as exported, recorded 6 dB (12 dB) too loud: peak driven to twice
  (four times) full scale and clipped at 0.99;
- faster_1.2: as exported, played 1.2 times as fast (the same samples at 9.6 kHz: pitch and
  tempo up by a fifth, toward a higher voice than the training speed changes of 0.85-1.15).
The noise and the rooms are drawn from fixed seeds: the extra 20 dB draws from a seed of their
own and the clicks' noise from another, so the sets before them stay as they were.
"""

import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

WIDE = 44_100


def read(path):
    with wave.open(path) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        sys.exit(f"{path}: expected 16-bit samples, found {8 * width}-bit")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768
    return x.reshape(-1, channels).mean(axis=1), rate


def write(path, x, rate, channels=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pcm = np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype("<i2")
    if channels == 2:
        pcm = np.stack([pcm, pcm], axis=1)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def resample(x, rate, to):
    """Band-limited resampling by zero-padding the spectrum."""
    n = int(round(len(x) * to / rate))
    spectrum = np.fft.rfft(x)
    padded = np.zeros(n // 2 + 1, dtype=complex)
    m = min(len(spectrum), len(padded))
    padded[:m] = spectrum[:m]
    return np.fft.irfft(padded, n) * n / len(x)


def pink(rng, n):
    """Unit-RMS noise whose power falls as 1/f."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(f), n)
    return noise / noise.std()


def hum(n, mains, level):
    t = np.arange(n) / WIDE
    return level * sum(np.sin(2 * np.pi * mains * k * t + k) / k for k in (1, 2, 3))


def room(rng, seconds, amplitude):
    """A synthetic impulse response: the direct sound, then a tail decaying by 60 dB."""
    t = np.arange(int(seconds * WIDE)) / WIDE
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / seconds) * amplitude
    response[0] = 1.0
    return response


def click(rng, peak):
    """A key's click: 5 ms of noise decaying exponentially, peak amplitude about `peak`."""
    n = int(0.005 * WIDE)
    return rng.standard_normal(n) * np.exp(-np.arange(n) / (n / 5)) * peak / 3


def variants(x, rate, rng, more_rng, click_rng):
    """(set name, file suffix, samples, rate, channels) of one recording."""
    x = x - x.mean()
    wide = resample(x, rate, WIDE)
    speech = np.sqrt(np.mean(wide[np.abs(wide) > 0.02 * np.abs(wide).max()] ** 2))
    long_pad = np.concatenate([np.zeros(WIDE), wide, np.zeros(WIDE // 2)])
    short_pad = np.concatenate([np.zeros(WIDE // 2), wide, np.zeros(WIDE // 2)])
    db = lambda d: 10 ** (d / 20)
    yield "as_is", "", x, rate, 1
    yield "wideband", "", wide, WIDE, 2
    yield "quiet", "", wide * db(-35), WIDE, 1
    for snr in (35, 20):
        noise = pink(rng, len(long_pad)) * speech * db(-snr)
        yield f"room_noise_{snr}db", "", long_pad + noise, WIDE, 1
    white = rng.standard_normal(len(short_pad)) * speech * db(-25)
    yield "white_noise_25db", "", short_pad + white, WIDE, 1
    yield "hum_50hz", "", long_pad + hum(len(long_pad), 50, 0.1 * speech), WIDE, 1
    yield "hum_60hz_mild", "", short_pad + hum(len(short_pad), 60, 0.03 * speech), WIDE, 1
    for name, seconds, amplitude in (("reverb_strong", 0.4, 0.08), ("reverb_mild", 0.3, 0.02)):
        wet = np.convolve(wide, room(rng, seconds, amplitude))
        yield name, "", wet / np.abs(wet).max() * 0.5, WIDE, 1
    for k in range(4):
        noise = pink(more_rng, len(long_pad)) * speech * db(-20)
        yield "room_noise_20db_x4", f"-{k}", long_pad + noise, WIDE, 1
    for k in range(2):
        white = more_rng.standard_normal(len(long_pad)) * speech * db(-20)
        yield "white_noise_20db_x2", f"-{k}", long_pad + white, WIDE, 1
    clicked = long_pad + pink(click_rng, len(long_pad)) * speech * db(-35)
    for at in (int(0.05 * WIDE), len(long_pad) - int(0.055 * WIDE)):
        sound = click(click_rng, np.abs(wide).max())
        clicked[at : at + len(sound)] += sound
    yield "clicks", "", clicked, WIDE, 1
    for gain in (2, 4):
        yield f"clipped_{gain}x", "", np.clip(x / np.abs(x).max() * gain, -0.99, 0.99), rate, 1
    yield "faster_1.2", "", x, int(rate * 1.2), 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    rng, more_rng, click_rng = (np.random.default_rng(seed) for seed in (7, 8, 9))
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        exported = os.path.join(tmp, "spoken_digits")
        subprocess.run([binary, "data", "export", "spoken_digits", exported], check=True,
                       stdout=subprocess.DEVNULL)
        test = os.path.join(exported, "test")
        for digit in sorted(os.listdir(test)):
            for name in sorted(os.listdir(os.path.join(test, digit))):
                x, rate = read(os.path.join(test, digit, name))
                made = variants(x, rate, rng, more_rng, click_rng)
                for set_name, suffix, y, y_rate, channels in made:
                    stem, ext = os.path.splitext(name)
                    path = os.path.join(out, set_name, digit, stem + suffix + ext)
                    write(path, y, y_rate, channels)
                    counts[set_name] = counts.get(set_name, 0) + 1
    for set_name in sorted(counts):
        print(f"{set_name}: {counts[set_name]} recordings")


if __name__ == "__main__":
    main()
