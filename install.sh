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
log=$home/install.log
say "installing bmr and its dependencies into $venv (pip's output: $log)"
# Every dependency has a wheel for Linux x86_64/aarch64 and Windows (scripts/wheel-check.py): --prefer-binary
# keeps pip from choosing a newer source-only release that would need a compiler. pip's own output, and a
# traceback if it fails, goes to the log; the terminal gets one line saying what failed and what to do.
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --prefer-binary . >"$log" 2>&1; then
  say "$("$python" - "$log" <<'EXPLAIN'
import platform, re, sys
log = sys.argv[1]
text = open(log, encoding="utf-8", errors="replace").read()
def find(pattern):
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else None
machine = f"Python {platform.python_version()} on {platform.machine()}"
built = find(r"Building wheel for ([A-Za-z0-9_.-]+)[^\n]*(?:did not run successfully|error)") or find(
    r"Failed (?:to build|building wheel for) ([A-Za-z0-9_.-]+)") or find(
    r"Getting requirements to build wheel[^\n]*\n(?:.*\n){0,3}?.*?(?:for|of) ([A-Za-z0-9_.-]+)")
no_compiler = re.search(r"no acceptable C compiler|C compiler cannot create executables|unable to execute '"
                        r"|error: command '[^']*' failed: No such file|\b(?:gcc|cc|clang): (?:not found|No such file)"
                        r"|No such file or directory: '[^']*(?:gcc|cc|clang)'", text)
no_headers = "Python.h: No such file" in text
if built and (no_compiler or no_headers):
    need = "gcc python3-dev" if no_compiler else "python3-dev"
    msg = (f"pip failed: {built} has no wheel for {machine} and building it needs a C compiler and Python's "
           f"headers: apt-get install {need}, then ./install.sh again")
elif built:
    msg = f"pip failed building {built} from source (it has no wheel for {machine})"
elif "CERTIFICATE_VERIFY_FAILED" in text:
    msg = "pip cannot verify PyPI's HTTPS certificate: install your network's CA (update-ca-certificates) or set PIP_CERT"
elif re.search(r"NewConnectionError|Temporary failure in name resolution|Name or service not known"
               r"|Network is unreachable|ProxyError|ConnectTimeout|Read timed out", text):
    msg = "pip cannot reach PyPI (network, DNS or proxy): set HTTPS_PROXY or PIP_INDEX_URL if you need one"
elif "No space left on device" in text:
    msg = "pip failed: no space left on device (free some, then ./install.sh again)"
elif (missing := find(r"No matching distribution found for ([^\s]+)")):
    if f"requirement {missing} (from versions: none)" in text:
        msg = (f"pip found no release of {missing} at all: is the package index reachable (HTTPS_PROXY, "
               "PIP_INDEX_URL)?")
    else:
        msg = f"pip found no release of {missing} installable on {machine}"
else:
    errors = [line.strip() for line in text.splitlines() if line.startswith("ERROR:")]
    msg = "pip failed: " + (errors[-1][6:].strip()[:200] if errors else "see the log")
print(f"{msg} (pip's output: {log})")
EXPLAIN
)"
  exit 1
fi
mkdir -p "$bin"
ln -sf "$venv/bin/bmr" "$bin/bmr"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) say "add $bin to PATH to type 'bmr' (the default ~/.profile of Debian and Ubuntu users does so at the next login)" ;;
esac
say "installed: $bin/bmr ($("$venv/bin/bmr" --version)); running 'bmr demo'"
exec "$venv/bin/bmr" demo "$@"
