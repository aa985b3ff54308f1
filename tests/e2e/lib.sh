# Shared by the end-to-end test scripts (sourced): a temporary folder $T removed on exit, PASS /
# FAIL counters and the checks every script uses. Each script ends with its own summary line and
# `[ "$failed" -eq 0 ]`.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=python3
passed=0
failed=0
ok() { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# expect_exit CODE NAME -- command...: runs it, keeps stdout in $T/out and stderr in $T/err;
# on a wrong exit code prints the end of both
expect_exit() {
  local code=$1 name=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"
  local got=$?
  if [ "$got" -eq "$code" ]; then ok "$name (exit $got)"; else bad "$name: exit $got, expected $code"; tail -n 40 "$T/out" "$T/err"; fi
}
err_has() { grep -q -- "$1" "$T/err"; }
out_has() { grep -q -- "$1" "$T/out"; }
# py_check NAME ARGS... <<'PYEOF' ... PYEOF: a Python check read from stdin, given ARGS
py_check() { local name=$1; shift; if $PY - "$@"; then ok "$name"; else bad "$name"; fi; }
