#!/bin/bash
# tests/run.sh - what `deno task test` runs: install npm deps (frozen lock), start the loopback mail
# stack (Dovecot + Postfix + fake OAuth2 provider), run the Deno tests in parallel, always stop the stack.
#   bash tests/run.sh                      -> every *_test.ts of the project
#   bash tests/run.sh tests/support/ ...   -> arguments go to `deno test` (paths, --filter, ...)
# Exits with deno test's code. Works from any cwd. Needs root (see tests/support/mailstack.sh).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DENO="${DENO:-$(command -v deno || echo deno)}"

"$DENO" install --frozen

# separate assignment: a failing start aborts here (eval "$(...)" would hide it)
stack_env=$(tests/support/mailstack.sh start)
eval "$stack_env"
# MAILSTACK_DIR (now exported) tells stop which stack is ours when several runs share the tree
trap 'tests/support/mailstack.sh stop || true' EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on Ctrl-C / kill as well

mkdir -p tests/out
set +e
"$DENO" test -A --parallel "$@"
code=$?
set -e
exit "$code"
