#!/usr/bin/env bash
# `saturn --version`'s commit (cmake/commit.cmake): the checkout's commit inside it, "unknown"
# for sources without .git (a tarball) — even when unpacked inside another git repository.
# Usage: commit_outside_git.sh SOURCE_DIR
set -euo pipefail
source_dir=$1
script=$source_dir/cmake/commit.cmake
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake -DSOURCE_DIR="$source_dir" -DOUTPUT="$tmp/in.h" -P "$script"
# Inside a git checkout its commit; sources that git does not see as a checkout (an archive, or
# a tree git refuses as of dubious ownership) say unknown.
if git -C "$source_dir" rev-parse HEAD > /dev/null 2>&1 && [ -e "$source_dir/.git" ]; then
  grep -Eq '^#define SATURN_COMMIT "[0-9a-f]{12}(-dirty)?"$' "$tmp/in.h" ||
    { echo "inside the checkout: $(cat "$tmp/in.h")"; exit 1; }
else
  grep -q '^#define SATURN_COMMIT "unknown"$' "$tmp/in.h" ||
    { echo "outside a checkout: $(cat "$tmp/in.h")"; exit 1; }
fi

# A tarball's tree unpacked inside an unrelated repository.
git init -q "$tmp/outer"
git -C "$tmp/outer" -c user.name=t -c user.email=t@t commit -q --allow-empty -m outer
mkdir "$tmp/outer/saturn-0.1.0"
cmake -DSOURCE_DIR="$tmp/outer/saturn-0.1.0" -DOUTPUT="$tmp/out.h" -P "$script"
grep -q '^#define SATURN_COMMIT "unknown"$' "$tmp/out.h" ||
  { echo "outside a checkout: $(cat "$tmp/out.h")"; exit 1; }

# Rewritten only when the text changes (an unchanged commit recompiles nothing).
before=$(stat -c %Y.%y "$tmp/out.h")
sleep 1
cmake -DSOURCE_DIR="$tmp/outer/saturn-0.1.0" -DOUTPUT="$tmp/out.h" -P "$script"
[ "$(stat -c %Y.%y "$tmp/out.h")" = "$before" ] || { echo "rewritten though unchanged"; exit 1; }
echo "ok"
