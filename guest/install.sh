#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the guest side of vmm's job convention into a root file system tree (default /).
#
# usage: guest/install.sh [ROOT]
# Puts vmm-exit in ROOT/usr/local/bin, vmm-job in ROOT/usr/local/lib/vmm-guest,
# vmm-job.service in ROOT/etc/systemd/system (enabled for multi-user.target)
# and this directory's README in ROOT/usr/local/share/doc/vmm-guest. Works on
# any systemd image; needs only cp, mkdir and ln. No package is installed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${1:-/}
[ -d "$ROOT" ] || { echo "install.sh: $ROOT is not a directory (give the root of the image's file tree)" >&2; exit 2; }
install_file() { # MODE SRC DST
	mkdir -p "$(dirname "$3")"
	cp "$2" "$3.tmp" && chmod "$1" "$3.tmp" && mv "$3.tmp" "$3"
}
install_file 755 "$HERE/vmm-exit" "$ROOT/usr/local/bin/vmm-exit"
install_file 755 "$HERE/vmm-job" "$ROOT/usr/local/lib/vmm-guest/vmm-job"
install_file 644 "$HERE/vmm-job.service" "$ROOT/etc/systemd/system/vmm-job.service"
install_file 644 "$HERE/README" "$ROOT/usr/local/share/doc/vmm-guest/README"
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sfn ../vmm-job.service "$ROOT/etc/systemd/system/multi-user.target.wants/vmm-job.service"
