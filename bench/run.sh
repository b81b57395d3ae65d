#!/bin/bash
# bench/run.sh - what `deno task bench` runs: start the loopback mail stack, run each benchmark script
# with `deno run -A bench/<name>.ts`, always stop the stack. Works from any cwd. Needs root.
#   bash bench/run.sh                -> ingest, inbox, ws_fanout first, then every other bench/*.ts
#                                       (helper modules: stats.ts, _*.ts, *_test.ts are skipped)
#   bash bench/run.sh inbox ingest   -> only those, in that order
# Exits non-zero when any benchmark failed (the others still run).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DENO="${DENO:-$(command -v deno || echo deno)}"

names=()
if (( $# )); then
  for n in "$@"; do n=${n#bench/}; names+=("${n%.ts}"); done
else
  for n in ingest inbox ws_fanout; do [[ -f bench/$n.ts ]] && names+=("$n"); done
  for f in bench/*.ts; do
    n=$(basename "$f" .ts)
    case $n in stats|_*|*_test) continue ;; esac
    [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
  done
fi
(( ${#names[@]} )) || { echo "bench: no benchmarks found under bench/" >&2; exit 0; }

"$DENO" install --frozen
stack_env=$(MAILSTACK_OWNER_PID=$$ tests/support/mailstack.sh start)   # separate assignment: a failed start aborts here
eval "$stack_env"
trap 'tests/support/mailstack.sh stop || true' EXIT
trap 'exit 130' INT TERM

failed=()
for n in "${names[@]}"; do
  echo "== bench/$n.ts" >&2
  t0=$(date +%s%3N)
  if "$DENO" run -A "bench/$n.ts"; then
    echo "== bench/$n.ts done in $(( $(date +%s%3N) - t0 )) ms" >&2
  else
    echo "== bench/$n.ts FAILED" >&2; failed+=("$n")
  fi
done
if (( ${#failed[@]} )); then echo "bench: failed: ${failed[*]}" >&2; exit 1; fi
