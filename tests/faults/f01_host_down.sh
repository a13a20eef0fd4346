# A host down (its init and sshd killed, as a crashed VM): the other four
# converge, the recap marks it unreachable with the cause, exit status 1.
LC_NET=${LC_NET:-40}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
for h in "${HOSTS[@]}"; do hssh "$h" rm /etc/datadog-agent/conf.d/system.yaml; done

pid=$(cat "$T/.lab/hosts/demo_api/init.pid")
kill -9 "$pid"
for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
hssh demo_api true 2>/dev/null && fail "demo_api still answers after its init was killed"

run_lab "$T/c.txt" converge "${HOSTS[@]}"
[ "$RC" = 1 ] || fail "exit status $RC, expected 1: $(cat "$T/c.txt")"
grep -Eq "^demo_api +unreachable +demo_api \(127\.0\.$LC_NET\.3:22\): connection refused" "$T/c.txt" \
	|| fail "no line naming demo_api and the cause: $(cat "$T/c.txt")"
grep -Eq "^demo_api .*failed=0 +unreachable=1" "$T/c.txt" || fail "recap does not mark demo_api unreachable: $(cat "$T/c.txt")"
grep -q "5 hosts: .* 1 unreachable" "$T/c.txt" || fail "summary line: $(tail -1 "$T/c.txt")"
for h in postgresql chaos_engine twitter_collector frontend; do
	grep -Eq "^$h .*failed=0 +unreachable=0" "$T/c.txt" || fail "$h did not converge: $(cat "$T/c.txt")"
	hssh "$h" test -f /etc/datadog-agent/conf.d/system.yaml || fail "$h was not repaired"
done
lt "$SECS" 10 || fail "a refused connection took $SECS s"
ok "a dead host is unreachable (connection refused) in ${SECS}s; the other four converge"

# --json says the same.
run_lab "$T/c.json" --json converge "${HOSTS[@]}"
[ "$RC" = 1 ] || fail "--json exit status $RC"
python3 - "$T/c.json" <<'PY' || fail "--json events: $(cat "$T/c.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
h = [e for e in ev if e.get("event") == "host" and e["host"] == "demo_api"]
assert h and h[0]["status"] == "unreachable" and "connection refused" in h[0]["error"], h
s = [e for e in ev if e.get("event") == "summary"][0]["hosts"]
assert s["demo_api"]["unreachable"] is True, s
assert all(not v["unreachable"] and v["failed"] == 0 for k, v in s.items() if k != "demo_api"), s
PY
ok "--json: a host event with the error, the summary marks it unreachable"

# Back up: the next converge repairs it too.
lab up > "$T/up2.txt" 2>&1 || fail "up after the crash: $(cat "$T/up2.txt")"
hssh demo_api test -f /etc/datadog-agent/conf.d/system.yaml || fail "demo_api not repaired once back"
ok "once back, the host is converged"
