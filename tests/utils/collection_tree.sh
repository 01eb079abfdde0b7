#!/usr/bin/env bash
# Copy the project's files (tracked and new, not ignored) into DEST/ansible_collections/hwc/apig,
# the layout ansible-test needs (a symlinked path does not work).
set -euo pipefail
dest="$1/ansible_collections/hwc/apig"
rm -rf "$dest"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
echo "$dest"
