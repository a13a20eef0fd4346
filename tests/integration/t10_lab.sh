# The whole lab from nothing: labctl up ends with every host healthy, and
# every part works when checked with independent clients (curl, psql,
# ssh, headless Chromium, a local stand-in of the metrics intake).
LC_NET=${LC_NET:-31}
. "$(dirname "$0")/lib.sh"

PGADDR=$(addr postgresql)

# A local stand-in of the intake on 127.0.0.1; the agents send there.
python3 "$LC_SOURCE_DIR/tests/agent/fake_intake.py" --port-file "$T/intake.port" --log "$T/intake.log" &
intake=$!
trap 'kill $intake 2>/dev/null || true; cleanup' EXIT
for i in $(seq 1 50); do [ -s "$T/intake.port" ] && break; sleep 0.1; done
port=$(cat "$T/intake.port")
sed -i "s|^vars:|vars:\n  dd_url: http://127.0.0.1:$port|" "$INV"

export DD_API_KEY=lab-test-key-0c1d2e3f
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up exited $?"; }
tail -8 "$T/up.txt"
grep -q "5 hosts: .* 0 failed, 0 unreachable" "$T/up.txt" || fail "recap"
[ "$(grep -c " healthy  health " "$T/up.txt")" = 4 ] || fail "health checks: $(grep health "$T/up.txt")"
ok "labctl up from nothing: every host converged and healthy"

for p in / /api/apm /api/trace; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$(addr demo_api):8081$p")" = 200 ] || fail "demo_api $p"
done
http_get "http://$(addr demo_api):8081/" | grep -q '"env":"development:local"' || fail "demo_api env"
ok "demo_api answers 200 on /, /api/apm, /api/trace"

# posts stream in at a few per second; wait for the first #love ones
for i in $(seq 1 60); do
	http_get "http://$(addr twitter_collector):8082/tweets/last/5" > "$T/tweets.json" || fail "collector"
	grep -q '"id"' "$T/tweets.json" && break
	sleep 0.5
done
PGPASSWORD=collector-lab-pw psql -h "$PGADDR" -U collector -d lab -At -F $'\t' \
	-c "select id, text from tweets order by id desc limit 5" > "$T/rows.tsv"
python3 - "$T/tweets.json" "$T/rows.tsv" <<'PY' || fail "tweets: $(cat "$T/tweets.json")"
import json, sys
posts = json.load(open(sys.argv[1]))
assert 1 <= len(posts) <= 5, posts
assert all("#love" in p["text"].lower() for p in posts), posts
ids = [p["id"] for p in posts]
assert ids == sorted(ids, reverse=True), ids
rows = [l.split("\t", 1)[0] for l in open(sys.argv[2]).read().splitlines()]
# rows keep arriving: the API's ids must be stored, and in the table's order
assert set(str(i) for i in ids) <= set(rows) or int(rows[-1]) <= min(ids), (ids, rows)
PY
PGPASSWORD=collector-lab-pw psql -h "$PGADDR" -U collector -d lab -Atc "select count(*) from tweets where text !~* '#love'" | grep -qx 0 \
	|| fail "a post without #love was kept"
ok "GET /tweets/last/5: <= 5 #love posts, newest first, the same rows as in PostgreSQL"

PGPASSWORD=datadog-lab-pw psql -h "$PGADDR" -U datadog -d postgres -Atc "select count(*) from pg_stat_database" | grep -Eq '^[0-9]+$' \
	|| fail "datadog cannot read pg_stat_database"
ok "the datadog user reads pg_stat_database"

for i in $(seq 1 40); do
	okall=1
	for h in "${HOSTS[@]}"; do
		hssh "$h" test -s /var/lib/lab-agent/status.json || okall=0
	done
	[ $okall = 1 ] && break
	sleep 0.5
done
for h in "${HOSTS[@]}"; do
	hssh "$h" cat /var/lib/lab-agent/status.json > "$T/st.json"
	python3 - "$T/st.json" "$h" <<'PY' || fail "$h: agent status $(cat "$T/st.json")"
import json, sys
s = json.load(open(sys.argv[1])); h = sys.argv[2]
c = s["config"]
assert c["hostname"] == h, c
assert c["env"] == "development:local", c
assert "env:development:local" in c["tags"] and "project:datadog-lab" in c["tags"], c
PY
done
hssh chaos_engine cat /var/lib/lab-agent/status.json > "$T/chaos.json"
python3 - "$T/chaos.json" <<'PY' || fail "my_metric: $(cat "$T/chaos.json")"
import json, sys
s = json.load(open(sys.argv[1]))
mm = s["checks"]["my_metric"]
assert mm["error"] is None, mm
# the AgentCheck's gauge, with the tag it adds itself
vals = mm["last_value"]
assert list(vals) == ["my_metric{source:chaos_engine}"], vals
v = vals["my_metric{source:chaos_engine}"]
assert 0 <= v <= 1000, v
PY
ok "every agent reports its hostname, tags and env; my_metric (an AgentCheck) is in 0..1000"

for i in $(seq 1 60); do grep -q '/api/v1/series' "$T/intake.log" 2>/dev/null && break; sleep 0.5; done
# each agent sends its host metadata with its first flush (10 s after start)
for i in $(seq 1 60); do
	[ "$(grep -c '"path": *"/intake/"' "$T/intake.log" 2>/dev/null)" -ge 5 ] && break
	sleep 0.5
done
python3 - "$T/intake.log" "$DD_API_KEY" <<'PY' || fail "intake"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
series = [r for r in reqs if r["method"] == "POST" and r["path"] == "/api/v1/series"]
assert series, reqs
r = series[0]
h = {k.lower(): v for k, v in r["headers"].items()}
assert h["dd-api-key"] == sys.argv[2], h
assert h["content-type"].startswith("application/json"), h
body = json.loads(r["body"])
s = body["series"][0]
assert set(s) >= {"metric", "points", "type", "host", "tags"}, s
ts, v = s["points"][0]
assert isinstance(ts, int) and isinstance(v, (int, float)), s
assert "env:development:local" in s["tags"], s
hosts = {x["host"] for r in series for x in json.loads(r["body"])["series"]}
print("intake got series from", sorted(hosts))
# every agent's host metadata: its host tags, as the host map filters on them
meta = {}
for r in reqs:
    if r["method"] == "POST" and r["path"] == "/intake/":
        m = json.loads(r["body"])
        meta[m["internalHostname"]] = m["host-tags"]["system"]
want = {"postgresql": "role:storage", "chaos_engine": "role:chaos", "demo_api": "role:demo:api",
        "twitter_collector": "role:data-collection", "frontend": "role:web"}
for host, role in want.items():
    assert host in meta, (host, sorted(meta))
    for t in (role, "env:development:local", "project:datadog-lab"):
        assert t in meta[host], (host, meta[host])
PY
ok "the agents submit series and their host metadata (host tags) to the local intake"

# every agent's trace receiver, on its host's own address
for h in "${HOSTS[@]}"; do
	curl -fsS --max-time 5 "http://$(addr "$h"):8126/info" | grep -q '"/v0.4/traces"' ||
		fail "$h: no trace receiver on $(addr "$h"):8126"
done
curl -fsS --max-time 5 -X PUT -H 'Content-Type: application/json' \
	--data '[[{"trace_id":1,"span_id":1,"parent_id":0,"name":"probe.request","service":"probe","resource":"GET /probe","duration":5000000,"meta":{"http.status_code":"200"}}]]' \
	"http://$(addr demo_api):8126/v0.3/traces" | grep -qx OK || fail "demo_api's receiver refused a trace"
for i in $(seq 1 30); do
	hssh demo_api cat /var/lib/lab-agent/status.json > "$T/demo.json"
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["apm"]; sys.exit("probe" not in a["services"])' "$T/demo.json" && break
	sleep 0.5
done
python3 - "$T/demo.json" "$(addr demo_api)" <<'PY' || fail "demo_api apm status: $(cat "$T/demo.json")"
import json, sys
a = json.load(open(sys.argv[1]))["apm"]
assert a["receiver"] == "listening on %s:8126" % sys.argv[2], a
assert a["services"]["probe"]["hits"] == 1 and a["refused"]["total"] == 0, a
PY
ok "each agent receives traces on its own address :8126"

# The traced apps: traffic at demo_api and the collector, then what the
# agents derived from their spans, as the fake intake received it.
for p in / /api/apm /api/trace /api/nope /api/boom; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$(addr demo_api):8081$p")
	case $p in
	/api/nope) [ "$code" = 404 ] ;;
	/api/boom) [ "$code" = 500 ] ;;
	*) [ "$code" = 200 ] ;;
	esac || fail "demo_api $p answered $code"
done
http_get "http://$(addr twitter_collector):8082/tweets/last/5" > /dev/null || fail "collector"
cat > "$T/apm_check.py" <<'PY'
import json, sys
series = [s for l in open(sys.argv[1]) for r in [json.loads(l)]
          if r["method"] == "POST" and r["path"] == "/api/v1/series"
          for s in json.loads(r["body"])["series"]]
def total(metric, *tags):
    got = [s for s in series if s["metric"] == metric and all(t in s["tags"] for t in tags)]
    assert got, (metric, tags)
    return sum(s["points"][0][1] for s in got)
demo = ("service:demo-api", "env:development:local")
for res in ("GET /", "GET /api/apm", "GET /api/trace"):
    assert total("trace.flask.request.hits", "resource_name:" + res, "http.status_code:200", *demo) >= 1, res
    assert total("trace.flask.request.errors", "resource_name:" + res, *demo) == 0, res
# a 404 is a hit with its status code, not an error; an exception (500) is an error
assert total("trace.flask.request.hits", "resource_name:GET 404", "http.status_code:404", *demo) >= 1
assert total("trace.flask.request.errors", "resource_name:GET 404", *demo) == 0
assert total("trace.flask.request.errors", "resource_name:GET /api/boom", "http.status_code:500", *demo) >= 1
# every span carries the version (the deployed commit)
assert all(any(t.startswith("version:") for t in s["tags"])
           for s in series if s["metric"].startswith("trace.flask.")), "no version tag"
assert total("trace.http.request.hits", "service:twitter-collector",
             "resource_name:GET /tweets/last/5", "http.status_code:200") >= 1
assert total("trace.postgres.query.hits", "service:postgres", "env:development:local") >= 1
# the nested manual spans of /api/trace are not service entries
assert not [s for s in series if s["metric"].startswith("trace.job.")], "job spans counted"
PY
for _ in $(seq 1 40); do
	python3 "$T/apm_check.py" "$T/intake.log" 2>"$T/apm_check.err" && break
	sleep 1
done
python3 "$T/apm_check.py" "$T/intake.log" 2>"$T/apm_check.err" || fail "trace metrics: $(tail -3 "$T/apm_check.err")"
hssh demo_api "grep -q 'dd.trace_id=[1-9][0-9]* dd.span_id=[1-9][0-9]*\] demo_api: apm: two calls' /var/log/lab/demo-api.log" ||
	fail "demo_api's log lines carry no trace ids"
ok "demo_api and the collector are traced: trace.*.hits/errors per resource at the intake, 404 a hit, 500 an error, logs with trace ids"

lab status > "$T/status.txt" || { cat "$T/status.txt"; fail "status exit"; }
grep -q "agent sees: hostname=chaos_engine env=development:local" "$T/status.txt" || fail "status: $(cat "$T/status.txt")"
grep -q "service twitter-collector: running" "$T/status.txt" || fail "status services"
if grep -qF "$DD_API_KEY" "$T/status.txt" "$T/up.txt"; then fail "the API key was printed"; fi
# APM per service, from the agents' status: the traffic driven above
grep -Eq "^    apm demo-api: [0-9]+\.[0-9]{2} req/s, [0-9.]+% errors, p95 [0-9.]+ ms \(last minute\)$" "$T/status.txt" ||
	fail "status: no APM line for demo-api: $(grep apm "$T/status.txt")"
grep -Eq "^    apm: receiver listening on $(addr demo_api):8126; [1-9][0-9]* traces, 0 refused$" "$T/status.txt" ||
	fail "status: no APM receiver line: $(grep apm "$T/status.txt")"
lab --json status demo_api twitter_collector > "$T/status.json" || fail "status --json"
python3 - "$T/status.json" <<'PY' || fail "status --json apm: $(cat "$T/status.json")"
import json, sys
st = {e["host"]: e for l in open(sys.argv[1]) for e in [json.loads(l)] if e.get("event") == "status"}
d = st["demo_api"]["apm"]["demo-api"]
assert d["requests_per_s"] > 0 and 0 < d["error_rate"] < 1 and d["p95_ms"] > 0, d
assert st["twitter_collector"]["apm"]["twitter-collector"]["requests_per_s"] > 0, st["twitter_collector"]["apm"]
PY
ok "labctl status shows agents, checks, services and APM per service"

if command -v chromium >/dev/null; then
	prof=$(mktemp -d)
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --virtual-time-budget=8000 --dump-dom \
		"http://$(addr frontend):8080/" > "$T/dom.html" 2>/dev/null || true
	rm -rf "$prof"
	n=$(grep -oi "#love" "$T/dom.html" | wc -l)
	[ "$n" -ge 1 ] || fail "the page shows no #love posts: $(head -c 2000 "$T/dom.html")"
	ok "the front page, in headless Chromium, shows $n #love posts"
else
	fail "chromium is not installed (./bootstrap --with-test-deps)"
fi

# A code change to the demo API: converge demo_api restarts only demo_api,
# and the new code answers.

python3 - "$T/apps/demo_api/app.py" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('@app.route("/health")', '@app.route("/api/version-check")\ndef version_check():\n    return jsonify(check="new code")\n\n\n@app.route("/health")', 1)
open(p, "w").write(s)
PY
grep -q version-check "$T/apps/demo_api/app.py" || fail "could not change the app"
lab --json converge demo_api > "$T/c.json" || fail "converge demo_api"
python3 - "$T/c.json" <<'PY' || fail "converge demo_api: $(cat "$T/c.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = [e for e in ev if e.get("event") == "summary"][0]["hosts"]
assert list(s) == ["demo_api"] and s["demo_api"]["restarts"] == 1, s
PY
http_get "http://$(addr demo_api):8081/api/version-check" | grep -q "new code" || fail "the new code does not answer"
lab --json up > "$T/again.json" || fail "second converge"
json_summary "$T/again.json" | while read -r h changed rest; do
	[ "$changed" = 0 ] || fail "$h: second converge changed $changed"
done
ok "a code change: converge demo_api restarts only demo_api, the new code answers, then 0 changed"
