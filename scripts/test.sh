#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed" summed over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

passed=0
failed=0
status=0

# Adds a suite's counts; a suite that fails without reporting counts one failure.
count() { # name exit-code pass fail
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" -ne 0 ]; then status=1; [ "$4" -eq 0 ] && failed=$((failed + 1)) && echo "suite $1 failed (exit $2)"; fi
}

echo "== build (executable for this machine)"
if ! bun scripts/build.ts --host; then count build 1 0 0; echo "$passed passed, $failed failed"; exit 1; fi

echo "== test tools"
# promtool lints the /metrics answer; of Debian's packages only prometheus ships it (about 100 MB installed).
if ! command -v promtool >/dev/null; then
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } ||
    echo "could not install promtool (apt-get install --no-install-recommends prometheus); the metrics tests that need it will fail"
fi
# etcd-server and etcd-client: the cluster tests start a real three-member etcd cluster on loopback ports.
if ! command -v etcd >/dev/null; then
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null; } ||
    echo "could not install etcd (apt-get install --no-install-recommends etcd-server etcd-client); the cluster tests will be skipped"
fi

echo "== typecheck"
if tsc --noEmit -p .; then count typecheck 0 1 0; else count typecheck 1 0 1; fi

echo "== bun test"
log=$(mktemp)
bun test --timeout 60000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
count "bun test" "$rc" "${pass:-0}" "${fail:-0}"

for suite in scripts/test-*.sh; do
  [ -e "$suite" ] || continue
  echo "== $suite"
  out=$(mktemp)
  bash "$suite" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  rm -f "$out"
  count "$suite" "$rc" "$(echo "${line:-0 passed}" | grep -Eo '^[0-9]+')" "$(echo "${line:-, 0 failed}" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')"
done

echo "$passed passed, $failed failed"
exit $status
