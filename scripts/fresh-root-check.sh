#!/usr/bin/env bash
# Proves the README's first set-up command on a freshly bootstrapped Debian 12 that has only its system
# Python (no pip, no python3-venv), and prints the demo's output. Run by hand before each release, as root
# (debootstrap and chroot need it); it takes several minutes and needs Debian's package mirror and PyPI.
#
#   bash scripts/fresh-root-check.sh [ROOT]     ROOT: an empty or new folder (default: a new one in /var/tmp)
#
# The committed HEAD of this repository is cloned into the new root: commit what you want to check.
# Environment: MIRROR (debootstrap's default when unset), SUITE (bookworm), KEEP=1 keeps the root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${SUITE:-bookworm}
root=${1:-$(mktemp -d /var/tmp/bmr-fresh-root.XXXXXX)}
[ "$(id -u)" = 0 ] || { echo "fresh-root-check: run as root (debootstrap, mount, chroot)" >&2; exit 2; }

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

mounted=()
cleanup() {
  local ok=1 i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || ok=0; done
  if [ "${KEEP:-0}" = 1 ] || [ "$ok" = 0 ] || findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "fresh-root-check: the root stays in $root" >&2
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT

echo "== debootstrap $suite (minbase + python3) into $root" >&2
# minbase + python3: what a fresh server image has; no pip, no python3-venv, no compiler.
debootstrap --variant=minbase --include=python3,ca-certificates "$suite" "$root" ${MIRROR:+"$MIRROR"} \
  >"$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
for fs in proc dev dev/pts; do
  case $fs in
    proc) mount -t proc proc "$root/proc" ;;
    *) mount --bind "/$fs" "$root/$fs" ;;
  esac
  mounted+=("$root/$fs")
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# A network whose HTTPS goes through an inspecting proxy: trust the same local CAs as this host, as a machine
# of that network would (nothing to do on a plain network).
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

git clone --quiet "$repo" "$root/root/bmr"
# The README's first command: the first line of its first ```sh block.
first=$(awk '/^```sh/ { inside = 1; next } inside { print; exit }' "$repo/README.md")
echo "== chroot: cd ~/bmr && $first" >&2
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/sh -c "cd /root/bmr && $first"
echo "== the README's first command worked on a fresh $suite root; 'bmr --version' there:" >&2
chroot "$root" /usr/bin/env -i HOME=/root /root/.local/bin/bmr --version
