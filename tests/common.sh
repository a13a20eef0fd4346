# Helpers every test script shares (sourced by tests/integration/lib.sh
# and tests/systemd/lib.sh): messages, HTTP, labctl's --json summary.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() { echo "ok - $*"; }

# json_summary FILE: print "host changed failed unreachable round_trips
# exec_channels connections" per host from the --json summary line.
json_summary() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "summary":
        for h, v in sorted(e["hosts"].items()):
            print(h, v["changed"], v["failed"], str(v["unreachable"]).lower(),
                  v["round_trips"], v["exec_channels"], v["connections"])
' "$1"
}

# http_get URL: the body, once the server answers (services start in the
# background); fails after 15 s.
http_get() {
	local i
	for i in $(seq 1 75); do
		curl -fsS --max-time 2 "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
