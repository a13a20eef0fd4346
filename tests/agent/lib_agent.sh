# lib_agent.sh - shared by the lab-agent test scripts (sourced).
# Everything listens on 127.0.0.1 only.

set -euo pipefail

AGENT=${LAB_AGENT:?set LAB_AGENT to the lab-agent binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/lab-agent-test.XXXXXX)
INTAKE_PID=
AGENT_PID=
# The intake is on loopback: no proxy may get in the way.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

cleanup() {
	[ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
	[ -z "$INTAKE_PID" ] || kill "$INTAKE_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -e "$f" ] || continue
		echo "--- $f" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

ok() {
	echo "ok - $*"
}

# start_intake [PORT [STATUS]]: the fake intake; sets PORT.
start_intake() {
	rm -f "$T/port"
	python3 "$HERE/fake_intake.py" --port "${1:-0}" --port-file "$T/port" \
		--log "$T/requests.jsonl" --status "${2:-202}" &
	INTAKE_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/port" ] && break
		sleep 0.1
	done
	[ -s "$T/port" ] || fail "the fake intake did not start"
	PORT=$(cat "$T/port")
}

stop_intake() {
	kill "$INTAKE_PID"
	wait "$INTAKE_PID" 2>/dev/null || true
	INTAKE_PID=
}

# json FILE PYTHON-EXPR: evaluate EXPR with d = the parsed file; exits
# non-zero when it is false.
json_true() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
PY
}

# wait_for SECONDS FILE EXPR: until json_true holds.
wait_for() {
	local n=$(( $1 * 10 ))
	while [ "$n" -gt 0 ]; do
		if [ -s "$2" ] && json_true "$2" "$3" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		n=$(( n - 1 ))
	done
	return 1
}
