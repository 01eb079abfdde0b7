#!/usr/bin/env bash
# Copy the project's files (tracked and new, not ignored) into DEST/ansible_collections/hwc/apig,
# the layout ansible-test needs (a symlinked path does not work). The copy gets a git index of its
# own so that ansible-test lists exactly these files rather than deferring to an enclosing repository.
set -euo pipefail
dest="$1/ansible_collections/hwc/apig"
rm -rf "$dest"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
git -C "$dest" init -q
git -C "$dest" add -A
echo "$dest"
