#!/usr/bin/env bash
# scripts/doctest.py checks itself: sessions that match pass, a changed output fails with a diff,
# `~` numbers and `...` lines vary, --update regenerates keeping the markers, directives work,
# a session hidden in a plain fence is bad input, and so is one that writes into the repository.
set -uo pipefail
runner="$(cd "$1" && pwd)/scripts/doctest.py"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
printf '#!/bin/sh\necho "saturn stub $*"\n' > saturn && chmod +x saturn
fail() { echo "FAIL: $*"; exit 1; }
run() { python3 "$runner" --saturn ./saturn "$@"; }

cat > page.md <<'MD'
# A page

<!-- doctest: file words.txt -->
```text
ab
aabb
```

```console
$ saturn lang count anbn
saturn stub lang count anbn
$ cat words.txt | wc -l
2
$ echo "loss 0.1234 at step 40"; echo "took 3.2 s"
loss ~0.5 at step 40
took ... s
$ seq 1 5
1
...
5
$ echo one \
    two
one two
```

<!-- doctest: skip needs a cluster -->
```console
$ false-command-never-run
nothing
```

<!-- doctest: full -->
```console
$ echo full-only
full-only
```
MD
out=$(run page.md) || fail "a matching page failed: $out"
[[ "$out" == *"1 sessions run, 0 differ"* ]] || fail "expected 1 session run: $out"
out=$(run --full page.md) || fail "--full failed: $out"
[[ "$out" == *"2 sessions run, 0 differ"* ]] || fail "--full should run 2 sessions: $out"

# A deliberately changed output fails, naming the command's line and showing the diff.
sed 's/^saturn stub lang count anbn$/saturn stub lang count anbm/' page.md > stale.md
out=$(run stale.md); rc=$?
[[ $rc == 1 ]] || fail "a stale session exited $rc, not 1"
[[ "$out" == *"stale.md:10: \$ saturn lang count anbn"* ]] || fail "no location: $out"
[[ "$out" == *"-saturn stub lang count anbm"* && "$out" == *"+saturn stub lang count anbn"* ]] ||
  fail "no diff: $out"
# A marked number matches any number, but the text around it must not change.
sed 's/^loss ~0.5 at step 40$/loss ~0.5 at step 41/' page.md > step.md
run step.md > /dev/null && fail "a changed step beside a marked number passed"

# --update regenerates: the stale line is fixed, marked numbers take the new value, '...' stays.
cp stale.md regen.md
out=$(run --update regen.md) || fail "--update failed: $out"
grep -qx 'saturn stub lang count anbn' regen.md || fail "--update did not fix the stale line"
grep -qx 'loss ~0.1234 at step 40' regen.md || fail "--update did not refresh the marked number"
grep -qx 'took ... s' regen.md || fail "--update dropped an inline '...'"
grep -qx '\.\.\.' regen.md || fail "--update dropped a '...' line"
out=$(run regen.md) || fail "the regenerated page does not pass: $out"

# A session in a plain fence is refused, with its place.
printf '# p\n\n```\n$ echo hi\nhi\n```\n' > plain.md
out=$(run plain.md 2>&1); rc=$?
[[ $rc == 2 && "$out" == *"plain.md:3: a session in a 'plain' fence"* ]] ||
  fail "a plain-fenced session: exit $rc, $out"
# A session that would write into the repository (an output named like a linked entry) is refused.
printf '# p\n\n```console\n$ saturn theory --out theory/x\nx\n```\n' > repo-out.md
out=$(run repo-out.md 2>&1); rc=$?
[[ $rc == 2 && "$out" == *"repo-out.md:4: 'theory/x' is the repository's theory"* ]] ||
  fail "an output into the repository: exit $rc, $out"
# --jobs runs pages at once; each page's report still comes whole and in the order given, and
# the counts add up (two stale pages: the first page's diff before the second's).
cp stale.md stale2.md
out=$(run --jobs 2 stale2.md page.md stale.md); rc=$?
first=$(grep -n '^stale2.md:' <<< "$out" | head -1 | cut -d: -f1)
second=$(grep -n '^stale.md:' <<< "$out" | head -1 | cut -d: -f1)
[[ $rc == 1 && -n "$first" && -n "$second" && $first -lt $second &&
   "$out" == *"differ"* ]] || fail "--jobs 2: exit $rc, order $first $second: $out"
grep -q ' 2 differ$' <<< "$out" || fail "--jobs 2 miscounted: $out"
# `needs MODULE` runs a block where Debian's Python imports MODULE and skips it, saying so,
# elsewhere (the block below would differ if it ran).
printf '# p\n\n<!-- doctest: needs no_such_module_xyz -->\n```console\n$ echo hi\nbye\n```\n\n<!-- doctest: needs json -->\n```console\n$ echo hi\nhi\n```\n' > needs.md
out=$(run needs.md); rc=$?
[[ $rc == 0 && "$out" == *"needs.md:4: skipped: needs the Python module 'no_such_module_xyz'"* &&
   "$out" == *"1 sessions run, 0 differ"* ]] || fail "needs: exit $rc, $out"
echo "doctest runner: all checks passed"
