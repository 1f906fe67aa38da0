#!/usr/bin/env bash
# Sets up VFIO Deck on a fresh Debian 12 / 13 or Ubuntu 24.04 machine: system packages through apt,
# then a virtual environment in .venv, built with the distribution's own /usr/bin/python3.
#   bash .ci/setup.sh                   the application
#   bash .ci/setup.sh --test            the application, the test tools, and what the tests drive
#   bash .ci/setup.sh --packages-only   only the apt part (as root, for a user without sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=app packages_only=no
for arg in "$@"; do
  case "$arg" in
    --test) mode=test ;;
    --packages-only) packages_only=yes ;;
    *) echo "setup: unknown option $arg (use --test or --packages-only)" >&2; exit 2 ;;
  esac
done

# Qt offscreen and in a real window (xcb), libvirt-python's build, pci.ids for device names.
app_packages=(
  python3 python3-venv python3-dev gcc pkg-config libvirt-dev pci.ids
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libglib2.0-0 libxkbcommon0 fonts-dejavu-core
  libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 pkexec
)
# A real hypervisor for the integration test, a virtual screen, and the real consumers the tests
# judge our output with: lspci (config space), modprobe (modprobe.d), lstopo (topology).
test_packages=(
  qemu-system-x86 ovmf libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libxml2-utils
  xvfb xauth hwloc pciutils kmod e2fsprogs
)
packages=("${app_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    sudo=(sudo)  # without a password, or asking for it on this terminal
  else
    flag=""
    [ "$mode" = test ] && flag=" --test"
    echo "setup: ${#missing[@]} system packages are missing and installing them needs root, without sudo" \
      "here: run  su -c 'bash $PWD/.ci/setup.sh --packages-only$flag'  then this command again" >&2
    exit 2
  fi
  echo "== apt: installing ${#missing[@]} packages"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
else
  echo "== apt: all ${#packages[@]} packages are installed"
fi
[ "$packages_only" = yes ] && exit 0

# The distribution's own Python, never a pyenv/conda shim found first on PATH: that is what users run.
python=/usr/bin/python3
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')" != "/usr" ]; then
  echo "== .venv was made with another Python; making it again with $python"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "== python virtual environment in .venv ($($python --version))"
  $python -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# setuptools warns at length about every editable install (a folder named like the package sits
# in the checkout: that is vfiodeck/, on purpose); the warning says nothing the user can act on.
if [ "$mode" = test ]; then
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q -e ".[test]"
else
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q .
fi

# The privileged helper (host changes) runs as root through pkexec, so its code must belong to root:
# a root-owned environment under /usr/lib/vfio-deck, never this user's .venv, and the polkit policy
# that names /usr/bin/vfio-deck-helper. Without root this is skipped: everything else works.
install_helper() {
  local prefix=/usr/lib/vfio-deck/helper
  "${sudo[@]}" /usr/bin/python3 -m venv "$prefix"
  "${sudo[@]}" env PYTHONWARNINGS=ignore "$prefix/bin/python" -m pip install -q --no-deps --force-reinstall .
  printf '#!/bin/sh\nexec %s/bin/python -I -m vfiodeck.core.hostchanges.helper "$@"\n' "$prefix" |
    "${sudo[@]}" tee /usr/bin/vfio-deck-helper >/dev/null
  "${sudo[@]}" chmod 755 /usr/bin/vfio-deck-helper
  "${sudo[@]}" install -D -m 644 resources/io.github.vfiodeck.VfioDeck.policy \
    /usr/share/polkit-1/actions/io.github.vfiodeck.VfioDeck.policy
}
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  sudo=(sudo)
else
  sudo=(none)
fi
if [ "${sudo[*]:-}" = none ]; then
  echo "== host changes: the privileged helper needs root to install; run  su -c 'bash $PWD/.ci/setup.sh'  once to add it"
else
  echo "== host changes: the privileged helper in /usr/lib/vfio-deck, /usr/bin/vfio-deck-helper and its polkit policy"
  install_helper
fi
echo "== ready: $(.venv/bin/vfio-deck --version)"
