#!/bin/bash
# lab-agent against a fake intake on 127.0.0.1: what it POSTs, the status
# file, bad config, the intake down (failures recorded, the agent keeps
# running, buffered points delivered once it is back), and no api_key.
. "$(dirname "$0")/lib_agent.sh"

KEY=test-key-123
C=$T/conf
mkdir -p "$C/conf.d" "$C/checks.d"

# datadog.yaml as labctl writes it (flow-list tags, stock keys ignored).
write_datadog_yaml() {  # API_KEY PORT
	cat > "$C/datadog.yaml" <<YAML
# Datadog-Agent-style configuration, written by labctl (role base).
api_key: "$1"
site: datadoghq.com
dd_url: http://127.0.0.1:$2
hostname: lab-test-host
env: testing
tags: ["project:datadog-lab", "role:test"]

log_level: info
logs_enabled: true
apm_config:
  enabled: true
process_config:
  process_collection:
    enabled: true
YAML
}

# The custom check as Datadog's docs write one (not executable: the agent
# imports it).
cat > "$C/checks.d/my_metric.py" <<'PY'
import random

try:
    from datadog_checks.base import AgentCheck
except ImportError:
    from checks import AgentCheck

__version__ = "1.0.0"


class MyMetricCheck(AgentCheck):
    def check(self, instance):
        # lab-agent adds the instance's tags (check:mine) itself
        self.gauge("my_metric", random.randint(0, 1000))
        self.service_check("my_metric.can_run", AgentCheck.WARNING, tags=["sc:1"],
                           message="a warning\nover two lines")
PY
cat > "$C/conf.d/my_metric.yaml" <<'YAML'
init_config:
instances:
  - min_collection_interval: 2
    tags: ["check:mine"]
YAML
cat > "$C/conf.d/system.yaml" <<'YAML'
init_config:
instances:
  - min_collection_interval: 15
YAML

# ---- 1. --once with the intake up --------------------------------------
start_intake
write_datadog_yaml "$KEY" "$PORT"
"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/once.log" \
	|| fail "--once exited with $?"
ok "--once exits 0"

python3 - "$T/requests.jsonl" "$T/status.json" <<'PY' || fail "intake or status content"
import json, sys, time
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert reqs, "no request reached the intake"
series, runs, meta = [], [], []
for r in reqs:
    assert r["method"] == "POST", r["method"]
    assert r["path"] in ("/api/v1/series", "/api/v1/check_run", "/intake/"), r["path"]
    h = {k.lower(): v for k, v in r["headers"].items()}
    assert h.get("dd-api-key") == "test-key-123", h
    assert h.get("content-type") == "application/json", h
    if r["path"] == "/api/v1/series":
        series += json.loads(r["body"])["series"]
    elif r["path"] == "/intake/":
        meta.append(json.loads(r["body"]))
    else:
        runs += json.loads(r["body"])
# the host metadata, once, with the host tags the host map filters on
assert len(meta) == 1, meta
m = meta[0]
assert m["internalHostname"] == "lab-test-host" and m["meta"]["hostname"] == "lab-test-host", m
assert m["host-tags"] == {"system": ["project:datadog-lab", "role:test", "env:testing"]}, m
assert m["os"] and m["agentVersion"] and m["agentFlavor"] == "lab_agent", m
assert "test-key-123" not in json.dumps(m), "the api key is in the metadata body"
# the check's service check, as the real agent sends one
assert len(runs) == 1, runs
sc = runs[0]
assert sc["check"] == "my_metric.can_run" and sc["status"] == 1, sc
assert sc["host_name"] == "lab-test-host", sc
assert sc["message"] == "a warning\nover two lines", sc
for t in ("sc:1", "check:mine", "env:testing", "project:datadog-lab"):
    assert t in sc["tags"], sc
assert abs(sc["timestamp"] - time.time()) < 120, sc
now = time.time()
names = {s["metric"] for s in series}
for want in ("my_metric", "system.load.1", "system.load.5", "system.load.15",
             "system.cpu.user", "system.cpu.system", "system.cpu.idle",
             "system.mem.total", "system.mem.used", "system.mem.free",
             "system.disk.total", "system.disk.used", "system.disk.free"):
    assert want in names, (want, sorted(names))
for s in series:
    assert set(s) >= {"metric", "points", "type", "host", "tags"}, s
    assert s["type"] in ("gauge", "count"), s
    assert s["host"] == "lab-test-host", s
    assert len(s["points"]) == 1 and len(s["points"][0]) == 2, s
    ts, v = s["points"][0]
    assert isinstance(ts, int) and abs(ts - now) < 120, s
    assert isinstance(v, (int, float)), s
    for t in ("project:datadog-lab", "role:test", "env:testing"):
        assert t in s["tags"], s
    assert len(s["tags"]) == len(set(s["tags"])), s
mine = [s for s in series if s["metric"] == "my_metric"]
assert len(mine) == 1, mine
v = mine[0]["points"][0][1]
assert 0 <= v <= 1000 and v == int(v), v
assert mine[0]["type"] == "gauge"
assert "check:mine" in mine[0]["tags"], mine[0]
sysm = {s["metric"]: s["points"][0][1] for s in series}
assert sysm["system.mem.total"] > sysm["system.mem.free"] > 0, sysm
assert 0 <= sysm["system.cpu.idle"] <= 100, sysm
assert sysm["system.disk.total"] >= sysm["system.disk.used"], sysm

st = json.load(open(sys.argv[2]))
assert set(st) == {"version", "pid", "running_since", "config", "checks", "intake"}, set(st)
cfg = st["config"]
assert cfg["hostname"] == "lab-test-host", cfg
assert cfg["tags"] == ["project:datadog-lab", "role:test"], cfg
assert cfg["env"] == "testing", cfg
assert cfg["dd_url"].startswith("http://127.0.0.1:"), cfg
assert cfg["submission"] == "enabled", cfg
assert cfg["errors"] == [], cfg
my = st["checks"]["my_metric"]
assert my["error"] is None and my["runs"] == 1 and my["last_run"], my
assert my["last_value"]["my_metric"] == v, (my, v)
assert my["last_value"]["service_check:my_metric.can_run{sc:1}"] == 1, my
sy = st["checks"]["system"]
assert sy["error"] is None and sy["runs"] == 1, sy
assert sy["last_value"]["system.load.1"] == sysm["system.load.1"], sy
assert st["intake"]["sent"] == len(series) + len(runs), st["intake"]
assert st["intake"]["failed"] == 0 and st["intake"]["dropped"] == 0, st["intake"]
assert st["intake"]["last_error"] is None, st["intake"]
PY
ok "intake got POST /api/v1/series with the key, JSON, host, tags, env; status matches"
grep -q "$KEY" "$T/once.log" && fail "the api key is in the log"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z (INFO|WARN|ERROR|DEBUG) ' "$T/once.log" \
	|| fail "log lines lack an ISO timestamp and level"
ok "log lines are timestamped, the key is not in them"

# ---- 2. bad config: logged with positions, other checks still run -------
: > "$T/requests.jsonl"
printf 'init_config:\ninstances: [\n' > "$C/conf.d/broken.yaml"
mkdir -p "$C/conf.d/nosuch.d"
printf 'init_config:\ninstances:\n  - {}\n' > "$C/conf.d/nosuch.d/conf.yaml"
printf 'instances:\n  - min_collection_interval: soon\n' > "$C/conf.d/postgres.yaml"
rc=0
"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/bad.log" || rc=$?
[ "$rc" = 1 ] || fail "--once with bad config exited $rc, expected 1"
grep -q "conf.d/broken.yaml:3:1: " "$T/bad.log" || fail "no position for the YAML error"
grep -q "unknown check 'nosuch'" "$T/bad.log" || fail "unknown check dir not logged"
grep -q "conf.d/postgres.yaml:2:30: bad min_collection_interval 'soon'" "$T/bad.log" \
	|| fail "bad interval not logged with its position"
json_true "$T/status.json" '
d["checks"]["broken"]["error"].find("conf.d/broken.yaml:3:1:") >= 0 and
d["checks"]["nosuch"]["runs"] == 0 and
d["checks"]["postgres"]["error"] is not None and
d["checks"]["my_metric"]["error"] is None and d["checks"]["my_metric"]["runs"] == 1 and
d["intake"]["sent"] > 0' || fail "status after bad config"
grep -qF 'metric\":\"my_metric\"' "$T/requests.jsonl" || fail "my_metric not sent with bad config around"
rm -rf "$C/conf.d/broken.yaml" "$C/conf.d/nosuch.d" "$C/conf.d/postgres.yaml"
ok "bad config is logged with file:line:col; the other checks run and submit"

# ---- 3. intake down: failures recorded, keeps running, retries ----------
stop_intake
DOWN_PORT=$PORT
rc=0
"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/down-once.log" || rc=$?
[ "$rc" = 1 ] || fail "--once with the intake down exited $rc, expected 1"
# two POSTs failed: the host metadata and the series
json_true "$T/status.json" '
d["intake"]["failed"] == 2 and d["intake"]["sent"] == 0 and
"127.0.0.1" in d["intake"]["last_error"] and
d["checks"]["my_metric"]["runs"] == 1' || fail "status with the intake down (--once)"
ok "--once with the intake down: exit 1, failure in the status"

: > "$T/requests.jsonl"
"$AGENT" -c "$C" --status-file "$T/status.json" 2>"$T/daemon.log" &
AGENT_PID=$!
# The first flush is after 10 s.
wait_for 30 "$T/status.json" 'd["intake"]["failed"] >= 1 and d["intake"]["buffered"] > 0' \
	|| fail "no failure recorded with the intake down"
kill -0 "$AGENT_PID" || fail "the agent died with the intake down"
runs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"]["my_metric"]["runs"])' "$T/status.json")
wait_for 10 "$T/status.json" "d['checks']['my_metric']['runs'] > $runs" \
	|| fail "checks stopped running with the intake down"
grep -q "WARN intake: POST http://127.0.0.1:$DOWN_PORT/api/v1/series" "$T/daemon.log" \
	|| fail "intake failure not logged"
ok "intake down: failures recorded, checks keep running"

# SIGHUP re-reads the config: a new tag shows up in the status.
sed -i 's/tags: \["project:datadog-lab", "role:test"\]/tags: ["project:datadog-lab", "role:test", "reloaded:yes"]/' "$C/datadog.yaml"
kill -HUP "$AGENT_PID"
wait_for 10 "$T/status.json" '"reloaded:yes" in d["config"]["tags"]' || fail "SIGHUP did not reload"
kill -0 "$AGENT_PID" || fail "the agent died on SIGHUP"
grep -q "SIGHUP: reloading" "$T/daemon.log" || fail "reload not logged"
ok "SIGHUP reloads the configuration"

# The intake comes back on the same port: the buffered points arrive
# (after the backoff), with their original timestamps.
start_intake "$DOWN_PORT"
wait_for 90 "$T/status.json" 'd["intake"]["sent"] > 0 and d["intake"]["last_error"] is None' \
	|| fail "buffered points not delivered once the intake was back"
python3 - "$T/requests.jsonl" <<'PY' || fail "retried content"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
series = [s for r in reqs if r["path"] == "/api/v1/series"
          for s in json.loads(r["body"])["series"]]
ts = sorted(s["points"][0][0] for s in series if s["metric"] == "my_metric")
assert len(ts) >= 3, ts
assert ts[-1] - ts[0] >= 10, ts   # points from before the intake came back
# the host metadata: sent once the intake was back, with the reloaded tags,
# and not again at every flush
meta = [json.loads(r["body"]) for r in reqs if r["path"] == "/intake/"]
assert len(meta) == 1, meta
assert "reloaded:yes" in meta[0]["host-tags"]["system"], meta
PY
ok "retry with backoff delivers the buffered points and the host metadata, once"

kill -TERM "$AGENT_PID"
for _ in $(seq 150); do
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$AGENT_PID" 2>/dev/null && fail "the agent did not stop on SIGTERM"
rc=0
wait "$AGENT_PID" || rc=$?
AGENT_PID=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "INFO stopped" "$T/daemon.log" || fail "no clean stop in the log"
ok "SIGTERM stops it cleanly (exit 0)"
grep -q "$KEY" "$T"/*.log && fail "the api key is in a log"

# ---- 4. no api_key: nothing sent, recorded locally ----------------------
: > "$T/requests.jsonl"
write_datadog_yaml "" "$PORT"
"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/nokey.log" \
	|| fail "--once without api_key exited $?"
sleep 0.5
[ ! -s "$T/requests.jsonl" ] || fail "something was sent without an api_key"
json_true "$T/status.json" '
d["config"]["submission"] == "disabled (no api_key)" and
d["intake"]["sent"] == 0 and d["intake"]["failed"] == 0 and
0 <= d["checks"]["my_metric"]["last_value"]["my_metric"] <= 1000 and
"system.mem.total" in d["checks"]["system"]["last_value"]' || fail "status without api_key"
ok "empty api_key: nothing sent, values in the status"
echo "all passed"
