#!/bin/bash
# tests/run.sh - what `deno task test` runs: install npm deps (frozen lock), start the loopback mail
# stack (Dovecot + Postfix + fake OAuth2 provider), run the Deno tests in parallel, always stop the stack.
#   bash tests/run.sh                      -> every *_test.ts of the project
#   bash tests/run.sh tests/support/ ...   -> arguments go to `deno test` (paths, --filter, ...)
# Exits with deno test's code (124 when the watchdog WARMDESK_TEST_TIMEOUT, default 1800 s, fired: a
# hung test must not hang CI). Works from any cwd. Needs root (see tests/support/mailstack.sh).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export DENO="${DENO:-$(command -v deno || echo deno)}"

"$DENO" install --frozen

# separate assignment: a failing start aborts here (eval "$(...)" would hide it);
# the owner PID lets a later start clean up after this run if it gets killed hard
stack_env=$(MAILSTACK_OWNER_PID=$$ tests/support/mailstack.sh start)
eval "$stack_env"
# MAILSTACK_DIR (now exported) tells stop which stack is ours when several runs share the tree
trap 'tests/support/mailstack.sh stop || true' EXIT

mkdir -p tests/out
# in the background + wait, so Ctrl-C / SIGTERM reach this script at once and stop the tests too
timeout --kill-after=30 "${WARMDESK_TEST_TIMEOUT:-1800}" "$DENO" test -A --parallel "$@" &
test_pid=$!
trap 'kill -TERM "$test_pid" 2>/dev/null || true; wait "$test_pid" || true; exit 130' INT TERM
set +e
wait "$test_pid"
code=$?
set -e
if [[ $code == 124 ]]; then echo "tests/run.sh: deno test timed out (WARMDESK_TEST_TIMEOUT)" >&2; fi
exit "$code"
