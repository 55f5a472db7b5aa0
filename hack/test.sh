#!/usr/bin/env bash
# Runs every test with the race detector and prints a short report: the packages, the failures with
# their output, and one closing line "N passed, N failed, N skipped". The full log stays in
# bin/test.log. Exits non-zero when anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log=$root/bin/test.log
mkdir -p "$root/bin"
cd "$root"
# The Redis store's tests need a real redis-server; install it once here rather than from several
# test packages at once (they fall back to installing it themselves).
if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$root/bin/apt.log" 2>&1 ||
    echo "installing redis-server failed (bin/apt.log); the Redis tests will say so" >&2
fi
# The playground's browser tests (test/browser) drive Debian's Chromium headless.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >>"$root/bin/apt.log" 2>&1 ||
    echo "installing chromium failed (bin/apt.log); the browser tests will say so" >&2
fi
# shellcheck disable=SC2086
go test -v ${GO_TEST_FLAGS:--race -count=1 -timeout 40m} "${@:-./...}" >"$log" 2>&1
status=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL|\[build failed\]|\[setup failed\]' "$log" | grep -v -- '--- PASS\|--- SKIP' || true
if [ "$status" -ne 0 ]; then
  echo
  echo "Failures (full log: bin/test.log):"
  # Each failing test's own lines, indented under its name.
  awk '/^=== RUN/{name=$3; buf=""} {buf=buf"\n"$0} /^\s*--- FAIL/{print buf; buf=""}' "$log" | tail -200
  grep -E '^(# |.*\.go:[0-9]+:[0-9]+:)' "$log" | head -40
fi
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
pkgfail=$(grep -cE '^FAIL\s' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$pkgfail; [ "$failed" -eq 0 ] && failed=1; fi
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
