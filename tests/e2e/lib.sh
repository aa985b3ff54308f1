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
# interrupt_after FILE LINES SIGNAL -- command...: runs the command in its own process group, as a
# terminal runs a job, sends SIGNAL to the whole group (as Ctrl-C does) once FILE has LINES lines,
# and waits. stdout in $T/out, stderr in $T/err, the exit status in $rc: 128 + the signal's number
# when the command ended by the signal, as a shell reports it.
interrupt_after() {
  local file=$1 lines=$2 sig=$3; shift 4
  set -m
  "$@" >"$T/out" 2>"$T/err" &
  local pid=$! tries=0
  set +m
  until [ -f "$file" ] && [ "$(wc -l <"$file")" -ge "$lines" ]; do
    kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 3000 ] || break  # ended on its own, or 5 min
    sleep 0.1
    tries=$((tries + 1))
  done
  kill -s "$sig" -- "-$pid" 2>/dev/null
  wait "$pid"
  rc=$?
}
