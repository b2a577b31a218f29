#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, then the project and its test tools in .venv)
# and runs lint, type checks and the suite against real smbd and sshd. Run as root: the fixtures start
# sshd and mount a small tmpfs for the disk-full cases.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing+=("$2"); }
need smbd samba
need smbclient smbclient
need sshd openssh-server
need qemu-img qemu-utils
# bmr boot-test: QEMU, qemu-io (qemu-utils) and the UEFI firmware.
need qemu-system-x86_64 qemu-system-x86
need qemu-io qemu-utils
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -f /usr/share/OVMF/OVMF_CODE.fd ] || missing+=(ovmf)
need chromium chromium
# Deep inspection's test images: GPT, FAT32 for the EFI partition, NTFS through FUSE, registry hives.
need sgdisk gdisk
need mkfs.vfat dosfstools
need mmd mtools
# promtool checks the drill's Prometheus textfile.
need promtool prometheus
need ip iproute2
need mkntfs ntfs-3g
need hivexsh libhivex-bin
# The MBR reader's real tables (extended and logical partitions) are written by sfdisk and parted.
need sfdisk fdisk
need parted parted
/usr/bin/python3 -c "import hivex" 2>/dev/null || missing+=(python3-hivex)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# impacket (a second SMB server for the tests) installs its example scripts into .venv/bin, smbclient.py among
# them: beside .venv/bin/bmr that file would shadow smbprotocol's smbclient package for the bmr command.
rm -f .venv/bin/smbclient.py
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# The same packages as Windows sees them (bmr runs there too): no POSIX-only call on a path Windows runs.
.venv/bin/mypy --platform win32
.venv/bin/python -m pytest "$@"
