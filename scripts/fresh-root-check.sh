#!/usr/bin/env bash
# Proves the README's first set-up command on freshly bootstrapped Debian 12 (bookworm) and Debian 13 (trixie)
# roots that have only their system Python: no pip, no python3-venv, no compiler, no Python headers. For each
# suite it checks that no `cc`/`gcc` and no Python.h are there (before and after), clones the committed HEAD
# into the root, runs the README's first command (`./install.sh`, which ends with `bmr demo`'s walk-through)
# and checks the demo's output. Run by hand before each release, as root (debootstrap, mount,
# chroot); it needs Debian's package mirror and PyPI. The first run bootstraps each suite (a few minutes) and
# keeps a pristine copy in CACHE; later runs unpack that copy into a new folder (seconds).
#
#   bash scripts/fresh-root-check.sh [SUITE...]     default: bookworm trixie
#
# Environment: MIRROR (debootstrap's default when unset), CACHE (/var/cache/bmr-fresh-root), KEEP=1 keeps the
# roots, LIMIT (seconds for the README's command in one root, 1200).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${CACHE:-/var/cache/bmr-fresh-root}
limit=${LIMIT:-1200}
[ "$#" -gt 0 ] || set -- bookworm trixie
[ "$(id -u)" = 0 ] || { echo "fresh-root-check: run as root (debootstrap, mount, chroot)" >&2; exit 2; }
commit=$(git -C "$repo" rev-parse HEAD)
# The README's first command: the first line of its first ```sh block.
first=$(awk '/^```sh/ { inside = 1; next } inside { print; exit }' "$repo/README.md")
[ -n "$first" ] || { echo "fresh-root-check: no \`\`\`sh block in README.md" >&2; exit 2; }

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
mkdir -p "$cache"

root=""
mounted=()
unmount_all() {
  local ok=0 i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    timeout 30 umount "${mounted[i]}" || timeout 30 umount -l "${mounted[i]}" || ok=1
  done
  mounted=()
  return "$ok"
}
cleanup() {
  local ok=0
  unmount_all || ok=1
  [ -n "$root" ] || return 0
  # Never delete through a mount point that is still there (/dev is bound in).
  if [ "${KEEP:-0}" = 1 ] || [ "$ok" = 1 ] || findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "fresh-root-check: the root stays in $root" >&2
  else
    rm -rf --one-file-system "$root"
  fi
  root=""
}
trap cleanup EXIT

# A pristine root of SUITE, bootstrapped once: minbase + python3, what a fresh server image has.
pristine() {
  local suite=$1 tarball=$cache/$1.tar
  if [ ! -s "$tarball" ]; then
    local build
    build=$(mktemp -d /var/tmp/bmr-debootstrap-"$suite".XXXXXX)
    echo "== debootstrap --variant=minbase $suite (first run; kept in $tarball)" >&2
    if ! timeout 1800 debootstrap --variant=minbase --include=python3,ca-certificates "$suite" "$build" \
      ${MIRROR:+"$MIRROR"} >"$build.log" 2>&1; then
      tail -20 "$build.log" >&2
      rm -rf --one-file-system "$build"
      exit 1
    fi
    tar --numeric-owner -C "$build" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf --one-file-system "$build" "$build.log"
  fi
  printf '%s\n' "$tarball"
}

# Fails when the root has a C compiler or Python's headers: the proof that nothing gets compiled.
no_compiler() {
  local where=$1 found
  found=$(chroot "$root" /bin/sh -c 'for c in cc gcc c99 clang; do command -v $c; done; true')
  found+=$(find "$root/usr/include" "$root/usr/local/include" -name Python.h 2>/dev/null || true)
  if [ -n "$found" ]; then
    echo "fresh-root-check: $suite $where: a compiler or Python headers are present: $found" >&2
    return 1
  fi
  echo "== $suite $where: no cc, gcc, c99, clang, no Python.h" >&2
}

run_suite() {
  suite=$1
  local tarball out
  tarball=$(pristine "$suite") || return 1
  root=$(mktemp -d /var/tmp/bmr-fresh-root-"$suite".XXXXXX)
  tar --numeric-owner -C "$root" -xf "$tarball" || return 1
  echo "== $suite: $(cat "$root/etc/debian_version"), $(chroot "$root" python3 --version) in $root" >&2
  no_compiler "before" || return 1
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  mount --bind /dev "$root/dev" && mounted+=("$root/dev")
  mount --bind /dev/pts "$root/dev/pts" && mounted+=("$root/dev/pts")
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # A network whose HTTPS goes through an inspecting proxy: trust the same local CAs as this host, as a machine
  # of that network would (nothing to do on a plain network).
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  # A clean clone of the commit (no work-tree leftovers, no .venv).
  git clone --quiet --no-checkout "$repo" "$root/root/bmr"
  git -C "$root/root/bmr" checkout --quiet "$commit"
  echo "== $suite: chroot: cd ~/bmr && $first   (commit ${commit:0:12})" >&2
  out=$root/readme-first-command.out
  # Exactly the README's command (the root has no smbd: the walk-through stages into a local folder), bounded.
  local status=0
  timeout "$limit" chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c "cd /root/bmr && $first" >"$out" 2>&1 || status=$?
  # install.sh's own lines and the demo's steps (its command lines left out), then its last line.
  grep -E '^(install\.sh:|[0-9]\. |   copied|     wbadmin start)' "$out" | grep -v '^install.sh: W:' >&2 || true
  tail -1 "$out" >&2
  if [ "$status" != 0 ]; then
    cp "$out" "/var/tmp/bmr-fresh-root-$suite.out"
    cp "$root/root/.local/share/bmr/install.log" "/var/tmp/bmr-fresh-root-$suite.pip.log" 2>/dev/null || true
    echo "fresh-root-check: $suite: the README's first command failed (exit $status); its output and pip's log:" \
      "/var/tmp/bmr-fresh-root-$suite.out, /var/tmp/bmr-fresh-root-$suite.pip.log" >&2
    return 1
  fi
  local step
  for step in "installed: /root/.local/bin/bmr" "1. Wrote a sample recovery point" "copied .* read back and verified" \
    "wbadmin start sysrecovery" "5. Printable checklists"; do
    grep -q -- "$step" "$out" || { echo "fresh-root-check: $suite: the demo's output lacks '$step'" >&2; return 1; }
  done
  if grep -q "Traceback" "$out"; then
    echo "fresh-root-check: $suite: a traceback in the output" >&2
    return 1
  fi
  no_compiler "after install" || return 1
  echo "== $suite: the README's first command worked; 'bmr --version' there: $(chroot "$root" /usr/bin/env -i \
    HOME=/root /root/.local/bin/bmr --version)" >&2
  cleanup
}

failed=()
for suite in "$@"; do
  run_suite "$suite" || failed+=("$suite")
  cleanup
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fresh-root-check: FAILED on ${failed[*]}" >&2
  exit 1
fi
echo "fresh-root-check: OK on $*" >&2
