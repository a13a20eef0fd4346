# A service starts, is left alone on a no-op converge (same pid), restarts
# exactly once when a watched file changes (new pid), and a restart cut off
# by a failing op happens on the next converge.
LC_NET=${LC_NET:-27}
. "$(dirname "$0")/lib.sh"

pid() { hssh demo_api cat /run/lab/demo-api.pid; }
alive() { hssh demo_api "kill -0 $1" 2>/dev/null; }

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
grep -q "demo_api .*changed  service demo-api (started)" "$T/up.txt" || fail "not started: $(cat "$T/up.txt")"
p1=$(pid)
alive "$p1" || fail "service not running"
http_get "http://$(addr demo_api):8081/health" | grep -q ok || fail "demo API not answering"
ok "the service started (pid $p1)"

lab --json converge demo_api > "$T/noop.json" || fail "no-op converge"
read -r h changed failed unreach rt ch conn < <(json_summary "$T/noop.json")
[ "$changed" = 0 ] || fail "no-op converge changed $changed"
[ "$(pid)" = "$p1" ] && alive "$p1" || fail "the service was restarted by a no-op converge"
ok "no-op converge leaves it alone (same pid)"

echo "# change 1" >> "$T/apps/demo_api/app.py"
set +e
lab plan demo_api > "$T/plan.txt"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "pending  service demo-api (would restart)" "$T/plan.txt" || fail "plan: $(cat "$T/plan.txt")"
lab --json converge demo_api > "$T/c1.json" || { cat "$T/c1.json"; fail "converge after change"; }
python3 - "$T/c1.json" <<'PY' || fail "restart events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
svc = [e for e in ev if e.get("event") == "op" and e["op"] == "service" and e["path"] == "demo-api"]
assert len(svc) == 1 and svc[0]["action"] == "restart", svc
summ = [e for e in ev if e.get("event") == "summary"][0]
assert summ["hosts"]["demo_api"]["restarts"] == 1, summ
PY
p2=$(pid)
[ "$p2" != "$p1" ] && alive "$p2" || fail "no new pid after a watched change ($p1 -> $p2)"
alive "$p1" && fail "the old process still runs"
ok "a watched change restarts it exactly once (pid $p1 -> $p2)"

# A change, then a later op fails before the restart: the restart is owed.
echo "# change 2" >> "$T/apps/demo_api/app.py"
cp "$T/roles/demo_api/role.yaml" "$T/role.good"
python3 - "$T/roles/demo_api/role.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("  - service:", "  - command: { run: 'echo failing on purpose; exit 3', creates: /nonexistent }\n  - service:", 1)
open(p, "w").write(s)
PY
set +e
lab converge demo_api > "$T/c2.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "a failing op: exit $rc"
grep -q "demo_api .*failed   command echo failing on purpose; exit 3: failing on purpose" "$T/c2.txt" || fail "failure line: $(cat "$T/c2.txt")"
[ "$(pid)" = "$p2" ] || fail "restarted although an op failed"
hssh demo_api grep -qx demo-api /var/lib/labctl/restarts || fail "the owed restart is not recorded on the host"
hssh demo_api "grep -qx '# change 2' /opt/lab/demo_api/app.py" || fail "the change before the failure was not applied"
ok "a failing op after the change: no restart, the restart is recorded on the host"

cp "$T/role.good" "$T/roles/demo_api/role.yaml"
set +e
lab plan demo_api > "$T/plan2.txt"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "pending  service demo-api (would restart)" "$T/plan2.txt" \
	&& grep -q "a restart left pending by an earlier converge" "$T/plan2.txt" || fail "plan2: $(cat "$T/plan2.txt")"
lab --json converge demo_api > "$T/c3.json" || fail "converge after fixing"
[ "$(json_summary "$T/c3.json" | awk '{print $2}')" = 1 ] || fail "expected exactly the restart to change: $(cat "$T/c3.json")"
p3=$(pid)
[ "$p3" != "$p2" ] && alive "$p3" || fail "the owed restart did not happen"
hssh demo_api test ! -s /var/lib/labctl/restarts || fail "restart still recorded"
lab --json converge demo_api > "$T/c4.json"
[ "$(json_summary "$T/c4.json" | awk '{print $2}')" = 0 ] && [ "$(pid)" = "$p3" ] || fail "not idempotent after the owed restart"
ok "the next converge performs the owed restart, once (pid $p2 -> $p3)"

sed -i 's/      restart_on:/      state: stopped\n      restart_on:/' "$T/roles/demo_api/role.yaml"
set +e
lab converge demo_api > "$T/c5.txt"; rc=$?
set -e
grep -q "service demo-api (stopped)" "$T/c5.txt" || fail "stop line: $(cat "$T/c5.txt")"
# its health check now fails, and so does the host
[ "$rc" = 1 ] && grep -q "^demo_api .*failed   health http://" "$T/c5.txt" || fail "health of a stopped service: $rc $(cat "$T/c5.txt")"
alive "$p3" && fail "still running after state: stopped"
ok "state: stopped stops it (and its health check fails the host)"
