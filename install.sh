#!/bin/sh
# Installs bmr with the system Python into its own virtual environment and runs the demo:
#
#   ./install.sh            (then: bmr --help)
#
# Works on a fresh Debian 12 or Ubuntu 24.04, whose system Python refuses `pip install` (PEP 668,
# "externally-managed-environment") and whose bare images lack python3-venv: that one package is
# apt-installed when missing (as root, or through sudo). Nothing else outside your home folder is touched.
#   the environment: ${BMR_HOME:-~/.local/share/bmr}/venv
#   the launcher:    ${BMR_BIN:-~/.local/bin}/bmr (a link into the environment)
# Arguments go to `bmr demo` (for example --dir DIR or --no-samba).
set -eu
cd "$(dirname "$0")"

python=${PYTHON:-python3}
home=${BMR_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/bmr}
venv=$home/venv
bin=${BMR_BIN:-$HOME/.local/bin}

say() { printf 'install.sh: %s\n' "$*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
  say "no $python: install Python 3.11 or newer first (Debian/Ubuntu: apt-get install python3)"
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "bmr needs Python 3.11 or newer; $python is $("$python" -c 'import sys; print(sys.version.split()[0])')"
  exit 1
fi

make_venv() {
  rm -rf "$venv"
  "$python" -m venv "$venv" >/dev/null 2>&1 && "$venv/bin/python" -m pip --version >/dev/null 2>&1
}

mkdir -p "$home"
if ! make_venv; then
  # Debian and Ubuntu keep venv's pip in a separate package.
  say "$python cannot make a virtual environment with pip: installing python3-venv"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      say "run as root: apt-get install python3-venv   (then ./install.sh again)"
      exit 1
    fi
    sudo=sudo
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "install your distribution's package for Python's venv module (with pip), then ./install.sh again"
    exit 1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  if ! make_venv; then
    say "$python -m venv still fails after installing python3-venv; run it by hand to see why"
    exit 1
  fi
fi
say "installing bmr and its dependencies into $venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check .
mkdir -p "$bin"
ln -sf "$venv/bin/bmr" "$bin/bmr"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) say "add $bin to PATH to type 'bmr' (the default ~/.profile of Debian and Ubuntu users does so at the next login)" ;;
esac
say "installed: $bin/bmr ($("$venv/bin/bmr" --version)); running 'bmr demo'"
exec "$venv/bin/bmr" demo "$@"
