#!/bin/bash
# lab-agent's trace intake on 127.0.0.1, fed as tracers feed the real agent:
# v0.4 msgpack and v0.3 JSON payloads from the demo API and the collector,
# then bad ones (cut off, wrong types, 10 MB, 100k spans, wrong method and
# path).  Checked with our own clients: the HTTP answers, the trace metrics
# the fake intake receives (hits per resource with their tags, a 404 a hit
# and not an error, a 500 an error), and the APM part of the status file.
. "$(dirname "$0")/lib_agent.sh"

# a python3 that has msgpack (Debian's python3-msgpack)
PY=
for p in python3 /usr/bin/python3; do
	if "$p" -c "import msgpack" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || fail "no python3 with msgpack (apt-get install python3-msgpack)"

KEY=apm-test-key
C=$T/conf
mkdir -p "$C/conf.d"
APM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_intake
cat > "$C/datadog.yaml" <<YAML
api_key: "$KEY"
dd_url: http://127.0.0.1:$PORT
hostname: apm-host
env: testing
apm_config:
  enabled: true
  receiver_port: $APM_PORT
YAML
cat > "$C/conf.d/system.yaml" <<'YAML'
instances:
  - min_collection_interval: 300
YAML
"$AGENT" -c "$C" --status-file "$T/status.json" 2>"$T/agent.log" &
AGENT_PID=$!
wait_for 10 "$T/status.json" "d['apm']['receiver'] == 'listening on 127.0.0.1:$APM_PORT'" ||
	fail "the receiver is not listening"
ok "the trace receiver listens on 127.0.0.1:$APM_PORT"

"$PY" - "$APM_PORT" > "$T/send.out" 2>"$T/send.log" <<'PY' || fail "sending traces: $(cat "$T/send.log")"
import json, sys, time, urllib.request, msgpack

port = int(sys.argv[1])
now = time.time_ns()

def span(tid, sid, pid, name, service, resource, ms, error=0, status=None, env="lab"):
    s = {"trace_id": tid, "span_id": sid, "parent_id": pid, "name": name,
         "service": service, "resource": resource, "type": "web", "start": now,
         "duration": int(ms * 1e6), "error": error,
         "meta": {"env": env, "version": "1.0.0"}, "metrics": {"_sampling_priority_v1": 1}}
    if status:
        s["meta"]["http.status_code"] = str(status)
    return s

def send(path, body, ctype, method="PUT"):
    r = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                               method=method, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

traces = []
for i, (res, status, err) in enumerate([("GET /", 200, 0), ("GET /api/apm", 200, 0),
                                        ("GET /api/apm", 200, 0), ("GET /api/nope", 404, 0),
                                        ("GET /api/boom", 500, 1)]):
    traces.append([span(100 + i, 1, 0, "flask.request", "demo-api", res, 10 + i, err, status)])
# /api/trace: nested manual spans under the request
traces.append([span(200, 1, 0, "flask.request", "demo-api", "GET /api/trace", 30, 0, 200),
               span(200, 2, 1, "step.one", "demo-api", "step.one", 10),
               span(200, 3, 2, "step.two", "demo-api", "step.two", 5)])
# the collector: the request and its PostgreSQL query
traces.append([span(300, 1, 0, "flask.request", "twitter-collector", "GET /tweets/last/5", 8, 0, 200),
               span(300, 2, 1, "postgres.query", "postgres", "SELECT text FROM tweets", 3)])
code, body = send("/v0.4/traces", msgpack.packb(traces), "application/msgpack")
assert code == 200 and "rate_by_service" in json.loads(body), (code, body)
# v0.3, JSON, PUT and POST
code, body = send("/v0.3/traces", json.dumps(
    [[span(400, 1, 0, "flask.request", "demo-api", "GET /api/apm", 12, 0, 200)]]).encode(),
    "application/json", "POST")
assert code == 200 and body == "OK", (code, body)

# bad ones: each refused, the receiver keeps serving
good = msgpack.packb(traces)
bad = [
    ("/v0.4/traces", good[:-7], "application/msgpack", "PUT", 400, "cut off"),
    ("/v0.4/traces", msgpack.packb([[{"name": 5, "service": "x"}]]), "application/msgpack",
     "PUT", 400, "name must be a string"),
    ("/v0.4/traces", b"\x00" * (10 << 20), "application/msgpack", "PUT", 413, "payload over"),
    ("/v0.4/traces", msgpack.packb([[{"name": "x"}] * 100000]), "application/msgpack",
     "PUT", 413, "more than 50000 spans"),
    ("/v0.4/traces", b"", "application/msgpack", "GET", 405, "PUT or POST"),
    ("/v0.9/nope", b"[]", "application/json", "PUT", 404, "no such endpoint"),
]
for path, body, ctype, method, want, msg in bad:
    code, text = send(path, body if method != "GET" else None, ctype, method)
    assert code == want and msg in text, (path, want, code, text)
print("sent")
PY
kill -0 "$AGENT_PID" || fail "the agent died"
ok "v0.4 msgpack and v0.3 JSON accepted (200); bad payloads refused with 400/404/405/413"

# the status file: counts, refusals, the last minute per service, traces
wait_for 15 "$T/status.json" 'd["apm"]["payloads"] == 2 and d["apm"]["refused"]["total"] == 6' ||
	fail "status: $(cat "$T/status.json")"
python3 - "$T/status.json" <<'PY' || fail "apm status: $(cat "$T/status.json")"
import json, sys
a = json.load(open(sys.argv[1]))["apm"]
assert a["traces"] == 8 and a["spans"] == 11, a
r = a["refused"]
assert (r["too_large"], r["bad_payload"], r["bad_request"]) == (2, 2, 2), r
d = a["services"]["demo-api"]
assert d["hits"] == 7, d                      # the 6 requests + the v0.3 one
assert abs(d["error_rate"] - 1 / 7) < 1e-9, d
assert 0 < d["p50_ms"] <= d["p95_ms"] <= 30, d
res = a["resources"]["demo-api GET /api/apm"]
assert res["hits"] == 3 and res["p95_ms"] == 12.0, res
assert a["services"]["postgres"]["hits"] == 1, a["services"]
assert a["last_traces"][0]["resource"] == "GET /api/apm", a["last_traces"]
assert len(a["last_traces"]) == 8, a["last_traces"]
PY
ok "the status file: payloads, refusals by reason, p50/p95 and error rate per service, last traces"

# the trace metrics, at the next flush (every 10 s; traffic that straddles
# one is summed over two)
cat > "$T/check_series.py" <<'PY'
import json, sys
series = [s for l in open(sys.argv[1]) for r in [json.loads(l)]
          if r["path"] == "/api/v1/series" for s in json.loads(r["body"])["series"]]
def total(metric, *tags):
    got = [s for s in series if s["metric"] == metric and all(t in s["tags"] for t in tags)]
    assert got, (metric, tags)
    return sum(s["points"][0][1] for s in got)
for res in ("GET /", "GET /api/trace"):
    assert total("trace.flask.request.hits", "resource_name:" + res, "service:demo-api",
                 "env:lab", "version:1.0.0", "http.status_code:200") == 1, res
assert total("trace.flask.request.hits", "resource_name:GET /api/apm", "http.status_code:200") == 3
# a 404 is a hit with its status, not an error; a 500 is an error
assert total("trace.flask.request.hits", "resource_name:GET /api/nope", "http.status_code:404") == 1
assert total("trace.flask.request.errors", "resource_name:GET /api/nope") == 0
assert total("trace.flask.request.errors", "resource_name:GET /api/boom",
             "http.status_code:500") == 1
assert total("trace.flask.request.hits", "service:twitter-collector",
             "resource_name:GET /tweets/last/5") == 1
assert total("trace.postgres.query.hits", "service:postgres") == 1
d = total("trace.flask.request.duration", "resource_name:GET /api/apm")
assert abs(d - (0.011 + 0.012 + 0.012)) < 1e-6, d
# the nested manual spans are not service entries
assert not [s for s in series if s["metric"].startswith("trace.step.")], "step spans counted"
for s in series:
    if s["metric"].startswith("trace."):
        # the span's env, not also the agent's
        assert s["host"] == "apm-host", s
        assert [t for t in s["tags"] if t.startswith("env:")] == ["env:lab"], s
PY
for _ in $(seq 1 40); do
	python3 "$T/check_series.py" "$T/requests.jsonl" 2>"$T/series.log" && break
	sleep 1
done
python3 "$T/check_series.py" "$T/requests.jsonl" 2>"$T/series.log" ||
	fail "trace metrics: $(tail -3 "$T/series.log")"
ok "trace.<span>.hits/errors/duration reach the intake per resource, with env, service, version, status"

kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "exit status $? after SIGTERM"
AGENT_PID=
ok "stops cleanly"
