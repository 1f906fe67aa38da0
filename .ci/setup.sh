#!/usr/bin/env bash
# Sets up VFIO Deck on a fresh Debian 12 / Ubuntu 24.04 machine: system packages through apt,
# then a virtual environment in .venv with the package installed.
#   bash .ci/setup.sh          the application
#   bash .ci/setup.sh --test   the application, the test tools, and what the tests drive (QEMU, libvirt, Xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=app
[ "${1:-}" = "--test" ] && mode=test

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# Qt offscreen and in a real window (xcb), libvirt-python's build, pci.ids for device names.
app_packages=(
  python3 python3-venv python3-dev gcc pkg-config libvirt-dev pci.ids
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libglib2.0-0 libxkbcommon0 fonts-dejavu-core
  libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
)
# A real hypervisor for the integration test, a virtual screen, hwloc as a topology peer.
test_packages=(
  qemu-system-x86 ovmf libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libxml2-utils
  xvfb xauth hwloc
)
packages=("${app_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

echo "== apt: ${#packages[@]} packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

echo "== python virtual environment in .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q .
fi
echo "== ready: $(.venv/bin/vfio-deck --version)"
