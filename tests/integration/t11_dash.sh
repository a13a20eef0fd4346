# labctl dash: the lab's dashboards, monitors and downtimes (apps/dashboards/)
# applied to a local stand-in of the monitoring API (tests/dash/fake_dd_api.py,
# on 127.0.0.1 and a free port).  What labctl sent is checked in the stand-in's
# request log and with curl, never with labctl itself.  Needs no lab host.
set -euo pipefail

: "${LABCTL:?LABCTL must point to the labctl binary}"
: "${LC_SOURCE_DIR:?LC_SOURCE_DIR must point to the source tree}"

T=$(mktemp -d /tmp/labctl-dash.XXXXXX)
FAKE_PID=
cleanup() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok - $*"; }

cp -r "$LC_SOURCE_DIR/inventory" "$LC_SOURCE_DIR/apps" "$T/"
INV=$T/inventory/lab.yaml
DEFS=$T/apps/dashboards
LOG=$T/requests.jsonl
CHAOS_ADDR=$(awk '/^  chaos_engine:/ { h = 1 } h && /address:/ { print $2; exit }' "$INV")
[ -n "$CHAOS_ADDR" ] || fail "no chaos_engine address in the inventory"

# Keys only this run knows: if they show up in labctl's output, it leaked them.
rand() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
export FAKE_DD_API_KEY="ddapikey$(rand)" FAKE_DD_APP_KEY="ddappkey$(rand)"
export DD_API_KEY=$FAKE_DD_API_KEY DD_APPLICATION_KEY=$FAKE_DD_APP_KEY
unset DD_APP_KEY

python3 "$LC_SOURCE_DIR/tests/dash/fake_dd_api.py" --port-file "$T/port" --log "$LOG" \
	2> "$T/fake.log" &
FAKE_PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "the stand-in did not start: $(cat "$T/fake.log")"
PORT=$(cat "$T/port")
BASE=http://127.0.0.1:$PORT
touch "$LOG"

set_var() { # NAME VALUE: a lab var in the test inventory (replaced if set)
	sed -i "/^  $1: /d" "$INV"
	sed -i "s|^vars:\$|vars:\n  $1: $2|" "$INV"
}
unset_var() { sed -i "/^  $1: /d" "$INV"; }
set_var dd_api_url "\"$BASE\""

# run RC NAME ARGS...: labctl with the test inventory; stdout and stderr go
# to $T/NAME.out and $T/NAME.err (all of them are grepped for the keys).
run() {
	local want=$1 name=$2 rc
	shift 2
	set +e
	"$LABCTL" -i "$INV" "$@" > "$T/$name.out" 2> "$T/$name.err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$name: labctl $* exited $rc, expected $want
$(cat "$T/$name.out" "$T/$name.err")"
}

mark() { wc -l < "$LOG"; }
# requests SINCE: "METHOD PATH STATUS" per request logged after line SINCE.
requests() { tail -n +"$(($1 + 1))" "$LOG" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(e["method"], e["path"], e["status"])'; }
writes() { requests "$1" | awk '$1 != "GET"' || true; }

api() { # METHOD PATH [BODY]: an independent client with the keys
	curl -fsS -X "$1" -H "DD-API-KEY: $DD_API_KEY" -H "DD-APPLICATION-KEY: $DD_APPLICATION_KEY" \
		-H "Content-Type: application/json" ${3:+-d "$3"} "$BASE$2"
}
control() { curl -fsS -X POST -d "$2" "$BASE/_test/$1" > /dev/null; }
state() { curl -fsS "$BASE/_test/state"; }

# ---- refusals before any request ------------------------------------------

m=$(mark)
set_var dd_api_url '"ftp://127.0.0.1/"'
run 3 bad-url dash plan
grep -q "is not http:// or https://" "$T/bad-url.err" || fail "bad URL: $(cat "$T/bad-url.err")"
set_var dd_api_url '"http://api.datadoghq.com"'
run 3 clear-url dash plan
grep -q "keys would travel in clear" "$T/clear-url.err" || fail "http URL: $(cat "$T/clear-url.err")"
set_var dd_api_url "\"$BASE\""
env -u DD_API_KEY "$LABCTL" -i "$INV" dash plan > "$T/nokey.out" 2> "$T/nokey.err" && fail "no key: exit 0"
grep -q "DD_API_KEY is not set" "$T/nokey.err" || fail "no key: $(cat "$T/nokey.err")"
cp "$DEFS/my-metric.monitor.yaml" "$T/monitor.good"
sed -i 's/{{ hosts.chaos_engine.address }}/{{ hosts.chaos_engine.adress }}/' "$DEFS/my-metric.monitor.yaml"
run 3 bad-def dash apply
grep -Eq "my-metric\.monitor\.yaml:[0-9]+:[0-9]+ 'message':1: undefined variable 'hosts.chaos_engine.adress'" \
	"$T/bad-def.err" || fail "bad definition: $(cat "$T/bad-def.err")"
grep -q "nothing was applied" "$T/bad-def.err" || fail "bad definition: no 'nothing was applied'"
cp "$T/monitor.good" "$DEFS/my-metric.monitor.yaml"
run 3 usage dash apply chaos_engine
[ "$(mark)" = "$m" ] || fail "a refused run sent requests: $(requests "$m")"
ok "bad URL, missing key, bad definition and bad usage are refused before any request"

# ---- objects labctl did not make ------------------------------------------

api POST /api/v1/monitor '{"type": "metric alert", "query": "avg(last_5m):avg:system.load.1{*} > 4",
	"name": "made by hand", "tags": ["team:ops"], "options": {"thresholds": {"critical": 4}}}' > /dev/null
api POST /api/v1/dashboard '{"title": "made by hand", "layout_type": "ordered", "widgets": [],
	"description": "not labctl"}' > /dev/null
api POST /api/v1/downtime '{"scope": "env:prod", "message": "made by hand"}' > /dev/null

# ---- plan, then the first apply ---------------------------------------------

m=$(mark)
run 2 plan1 dash plan
[ "$(grep -c ' create$' "$T/plan1.out")" = 4 ] || fail "plan: $(cat "$T/plan1.out")"
grep -q '^+  "query": "avg(last_5m):avg:my_metric{host:chaos_engine} > 800",$' "$T/plan1.out" ||
	fail "plan shows no JSON diff: $(cat "$T/plan1.out")"
run 2 plan1j --json dash plan
python3 - "$T/plan1j.out" <<'EOF' || fail "plan --json: $(cat "$T/plan1j.out")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
acts = sorted((e["kind"], e["name"], e["action"]) for e in ev if e["event"] == "dash")
assert acts == [("dashboard", "lab-overview", "create"), ("downtime", "my-metric-weekends", "create"),
                ("downtime", "my-metric-weeknights", "create"), ("monitor", "my-metric", "create")], acts
assert all("body" in e for e in ev if e["event"] == "dash")
s = [e for e in ev if e["event"] == "dash_summary"][0]
assert s["create"] == 4 and s["writes"] == 0, s
EOF
[ -z "$(writes "$m")" ] || fail "plan wrote: $(writes "$m")"
ok "plan: 4 objects to create, a JSON diff each, exit 2, no write"

m=$(mark)
run 0 apply1 dash apply
[ "$(writes "$m" | awk '{ print $1, $2, $3 }' | sort | tr '\n' ';')" = \
  "POST /api/v1/dashboard 200;POST /api/v1/downtime 200;POST /api/v1/downtime 200;POST /api/v1/monitor 200;" ] ||
	fail "first apply wrote: $(writes "$m")"
[ "$(grep -c ' created ' "$T/apply1.out")" = 4 ] || fail "apply: $(cat "$T/apply1.out")"
tail -n +"$((m + 1))" "$LOG" > "$T/first.jsonl"
python3 - "$T/first.jsonl" "$CHAOS_ADDR" <<'EOF' || fail "first apply: payloads"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
addr = sys.argv[2]
assert all(r["keys_ok"] for r in reqs), "a request without the right keys"
posts = {}
for r in reqs:
    if r["method"] == "POST":
        assert r["content_type"] == "application/json", r
        posts.setdefault(r["path"].split("/")[3], []).append(r["body"])
(d,), (m,), dts = posts["dashboard"], posts["monitor"], posts["downtime"]
# the timeboard
assert d["layout_type"] == "ordered" and "development:local" in d["title"], d
assert d["description"].endswith("\n\n[labctl:lab-overview]"), d["description"]
qs = [r["q"] for w in d["widgets"] for r in w["definition"]["requests"]]
assert qs == ["avg:my_metric{host:chaos_engine}",
              "anomalies(avg:postgresql.connections{host:postgresql}, 'basic', 2)",
              "avg:my_metric{host:chaos_engine}.rollup(sum, 3600)"], qs
# the monitor
assert m["type"] == "metric alert", m
assert m["query"] == "avg(last_5m):avg:my_metric{host:chaos_engine} > 800", m["query"]
o = m["options"]
assert o["thresholds"] == {"warning": 500, "critical": 800}, o
assert all(type(v) is int for v in o["thresholds"].values()), o
assert o["notify_no_data"] is True and o["no_data_timeframe"] == 10, o
for block in ("is_alert", "is_warning", "is_no_data", "is_recovery"):
    assert "{{#%s}}" % block in m["message"] and "{{/%s}}" % block in m["message"], block
assert addr in m["message"] and "{{value}}" in m["message"], m["message"]
assert "labctl:my-metric" in m["tags"] and "env:development:local" in m["tags"], m["tags"]
# the downtimes
by = {dt["message"].rsplit("[labctl:", 1)[1].rstrip("]"): dt for dt in dts}
assert set(by) == {"my-metric-weeknights", "my-metric-weekends"}, list(by)
for dt in dts:
    assert dt["monitor_tags"] == ["labctl:my-metric"] and dt["scope"] == ["*"], dt
    assert dt["recurrence"]["type"] == "weeks" and dt["recurrence"]["period"] == 1, dt
    assert type(dt["start"]) is int and dt["end"] > dt["start"], dt
wn, we = by["my-metric-weeknights"], by["my-metric-weekends"]
assert wn["recurrence"]["week_days"] == ["Mon", "Tue", "Wed", "Thu", "Fri"], wn
assert (wn["start"] % 86400, wn["end"] - wn["start"]) == (19 * 3600, 14 * 3600), wn
assert we["recurrence"]["week_days"] == ["Sat"] and we["start"] % 86400 == 0, we
EOF
ok "first apply: 1 dashboard, 1 monitor, 2 downtimes posted with the keys and the documented shapes"

m=$(mark)
run 0 apply2 dash apply
[ -z "$(writes "$m")" ] || fail "second apply wrote: $(writes "$m")"
n=$(requests "$m" | wc -l)
[ "$n" -gt 0 ] || fail "second apply sent nothing at all"
grep -q "0 created, 0 updated, 0 deleted, 4 unchanged" "$T/apply2.out" || fail "$(cat "$T/apply2.out")"
run 0 plan2 dash plan
ok "second apply: only GETs ($n requests); plan exits 0"

# ---- a changed threshold is one PUT -------------------------------------------

MON_ID=$(state | python3 -c 'import json, sys
print([m["id"] for m in json.load(sys.stdin)["monitor"] if "labctl:my-metric" in m["tags"]][0])')
sed -i 's/^    warning: 500$/    warning: 600/' "$DEFS/my-metric.monitor.yaml"
grep -q "warning: 600" "$DEFS/my-metric.monitor.yaml" || fail "could not edit the threshold"
run 2 plan3 --json dash plan
grep -q '"changes":\[{"path":"options.thresholds.warning","old":500.0,"new":600}\]' "$T/plan3.out" ||
	fail "plan of a threshold: $(cat "$T/plan3.out")"
m=$(mark)
run 0 apply3 dash apply
[ "$(writes "$m")" = "PUT /api/v1/monitor/$MON_ID 200" ] || fail "threshold change wrote: $(writes "$m")"
state | python3 -c 'import json, sys
m = [m for m in json.load(sys.stdin)["monitor"] if "labctl:my-metric" in m["tags"]][0]
assert m["options"]["thresholds"]["warning"] == 600, m' || fail "the stand-in holds no new threshold"
m=$(mark)
run 0 apply3b dash apply
[ -z "$(writes "$m")" ] || fail "apply after the update wrote: $(writes "$m")"
ok "a changed threshold: exactly one PUT /api/v1/monitor/$MON_ID, then nothing"

# ---- --prune deletes only labctl's objects ------------------------------------

mv "$DEFS/my-metric-weekends.downtime.yaml" "$DEFS/lab-overview.dashboard.yaml" "$T/"
m=$(mark)
run 0 keep dash apply
[ -z "$(writes "$m")" ] || fail "apply without --prune wrote: $(writes "$m")"
[ "$(grep -c ' kept ' "$T/keep.out")" = 2 ] || fail "not kept: $(cat "$T/keep.out")"
run 2 plan-prune dash plan --prune
[ "$(grep -c ' delete ' "$T/plan-prune.out")" = 2 ] || fail "plan --prune: $(cat "$T/plan-prune.out")"
m=$(mark)
run 0 prune dash apply --prune
[ "$(writes "$m" | awk '{ print $1, $2 }' | sed 's|/[^/ ]*$||' | sort | tr '\n' ';')" = \
  "DELETE /api/v1/dashboard;DELETE /api/v1/downtime;" ] || fail "prune wrote: $(writes "$m")"
state | python3 -c 'import json, sys
s = json.load(sys.stdin)
names = lambda k, f: sorted(o.get(f) or "" for o in s[k])
assert names("monitor", "name") == ["made by hand", "my_metric is high on chaos_engine"], s["monitor"]
assert names("dashboard", "title") == ["made by hand"], s["dashboard"]
msgs = names("downtime", "message")
assert len(msgs) == 2 and "made by hand" in msgs, msgs
assert any(m.endswith("[labctl:my-metric-weeknights]") for m in msgs), msgs
' || fail "after prune: $(state)"
ok "--prune deletes the 2 removed labctl objects; the hand-made monitor, dashboard and downtime survive"

# ---- 429 then 200 ---------------------------------------------------------------

mv "$T/my-metric-weekends.downtime.yaml" "$T/lab-overview.dashboard.yaml" "$DEFS/"
control fail '{"status": 429, "count": 1, "reset": 1}'
m=$(mark)
run 0 ratelimit dash apply
requests "$m" > "$T/rl.txt"
[ "$(head -2 "$T/rl.txt" | tr '\n' ';')" = "GET /api/v1/dashboard 429;GET /api/v1/dashboard 200;" ] ||
	fail "429: $(cat "$T/rl.txt")"
grep -q "rate limited (HTTP 429), retrying in 1 s" "$T/ratelimit.out" || fail "$(cat "$T/ratelimit.out")"
[ "$(grep -c ' created ' "$T/ratelimit.out")" = 2 ] || fail "429: $(cat "$T/ratelimit.out")"
ok "a 429 (X-RateLimit-Reset: 1) is waited out and retried; the apply succeeds"

# ---- API errors name the object and the API's message; the recap tells -------------

sed -i 's/^    critical: 800$/    critical: 900/' "$DEFS/my-metric.monitor.yaml"
sed -i 's/^title: "Datadog lab:/title: "The Datadog lab:/' "$DEFS/lab-overview.dashboard.yaml"
m=$(mark)
run 1 apierr dash apply
grep -Eq "^monitor +my-metric +failed +id $MON_ID PUT /api/v1/monitor/$MON_ID: HTTP 400: Alert threshold \(900\) does not match that used in the query \(800\)\.$" \
	"$T/apierr.out" || fail "API error line: $(cat "$T/apierr.out")"
grep -Eq "^dashboard +lab-overview +updated " "$T/apierr.out" || fail "the dashboard was not updated"
grep -q "0 created, 1 updated, 0 deleted, 2 unchanged, 0 kept, 1 failed" "$T/apierr.out" || fail "recap: $(cat "$T/apierr.out")"
grep -A1 "^not applied:" "$T/apierr.out" | grep -q "  monitor my-metric (update): PUT .*HTTP 400: Alert threshold" ||
	fail "recap does not list what was not applied: $(cat "$T/apierr.out")"
writes "$m" | grep -q "PUT /api/v1/monitor/$MON_ID 400" || fail "the stand-in did not refuse the payload"
control fail '{"status": 500, "count": 1, "method": "PUT", "errors": ["Internal error: try again"]}'
run 1 apierr-json --json dash apply
python3 - "$T/apierr-json.out" <<'EOF' || fail "--json error: $(cat "$T/apierr-json.out")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
f = [e for e in ev if e["event"] == "dash" and e["status"] == "failed"]
assert len(f) == 1 and f[0]["name"] == "my-metric", f
assert f[0]["error"].endswith("HTTP 500: Internal error: try again"), f
s = [e for e in ev if e["event"] == "dash_summary"][0]
assert s["failed"] == 1 and s["not_applied"][0]["name"] == "my-metric", s
EOF
sed -i 's/^    critical: 900$/    critical: 800/' "$DEFS/my-metric.monitor.yaml"
run 0 fixed dash apply
ok "HTTP 400 and 500 name the object and the API's message; the recap lists what was not applied"

# ---- a timeout names the object; a create that landed late is not duplicated ----

set_var dd_api_timeout 1
WN_ID=$(state | python3 -c 'import json, sys
print([d["id"] for d in json.load(sys.stdin)["downtime"] if "[labctl:my-metric-weeknights]" in (d["message"] or "")][0])')
api DELETE "/api/v1/downtime/$WN_ID" > /dev/null      # someone deleted it by hand
control hang '{"seconds": 3, "count": 1, "method": "POST"}'
run 1 timeout dash apply
grep -Eq "^downtime +my-metric-weeknights +failed +POST /api/v1/downtime: no answer from $BASE within 1\.0 s$" \
	"$T/timeout.out" || fail "timeout: $(cat "$T/timeout.out")"
grep -q "  downtime my-metric-weeknights (create): " "$T/timeout.out" || fail "timeout recap: $(cat "$T/timeout.out")"
for _ in $(seq 1 100); do   # the stand-in finishes the late POST
	[ "$(state | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["downtime"]))')" = 3 ] && break
	sleep 0.1
done
m=$(mark)
run 0 after-timeout dash apply
[ -z "$(writes "$m")" ] || fail "the late create was duplicated: $(writes "$m")"
unset_var dd_api_timeout
ok "a timeout names the object; the object the API created late is found by its marker"

# ---- the keys never appear in labctl's output ---------------------------------------

n=$(ls "$T"/*.out "$T"/*.err | wc -l)
if grep -lF -e "$DD_API_KEY" -e "$DD_APPLICATION_KEY" "$T"/*.out "$T"/*.err; then
	fail "a key appears in labctl's output"
fi
python3 -c '
import json, sys
bad = [l for l in open(sys.argv[1]) if not json.loads(l)["keys_ok"]]
assert not bad, bad' "$LOG" || fail "a request went without the right keys"
if grep -qF -e "$DD_API_KEY" -e "$DD_APPLICATION_KEY" "$LOG"; then fail "keys in the request log"; fi
ok "the keys are in no output of labctl ($n files) and every request carried them"
