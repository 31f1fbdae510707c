#!/bin/sh
# greet: the demo's application. Prints a greeting for each name given.
set -eu
if [ "$#" -eq 0 ]; then set -- world; fi
for name in "$@"; do
  printf 'Hello, %s! (from greet %s)\n' "$name" "@VERSION@"
done
