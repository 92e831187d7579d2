# SPDX-License-Identifier: MIT
# Sourced by the kvm-smoke scripts: skip (status 77) without /dev/kvm, else make $tmp, removed at
# exit. A script with more to undo at exit sets its own EXIT trap afterwards, removing $tmp too.
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist on this machine"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
