#!/bin/sh
# The demo's test suite: runs the built greet against expected output.
set -eu
bin=${1:-dist/greet}
out=$("$bin" pushline)
case "$out" in
  "Hello, pushline! (from greet "*) echo "ok   greet pushline" ;;
  *) echo "FAIL greet pushline: got: $out"; exit 1 ;;
esac
n=$("$bin" a b c | wc -l)
[ "$n" -eq 3 ] && echo "ok   greet a b c prints 3 lines" || { echo "FAIL greet a b c: $n lines"; exit 1; }
echo "2 passed, 0 failed"
