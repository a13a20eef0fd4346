# labctl up on fresh hosts: every managed file has the expected content and
# mode on every host; a second converge changes nothing and costs one
# connection, one exec channel and two round trips per host (the facts, and
# the state record).
LC_NET=${LC_NET:-21}
. "$(dirname "$0")/lib.sh"

export DD_API_KEY=lc-test-key-7f3a9c0e51
lab --json up > "$T/up.json" 2> "$T/up.err" || { cat "$T/up.json" "$T/up.err"; fail "up exited $?"; }
! grep -q "$DD_API_KEY" "$T/up.json" "$T/up.err" || fail "the API key appears in labctl's output"
json_summary "$T/up.json" > "$T/sum"
[ "$(wc -l < "$T/sum")" = 5 ] || fail "summary does not list 5 hosts: $(cat "$T/sum")"
while read -r h changed failed unreach rt ch conn; do
	[ "$failed" = 0 ] && [ "$unreach" = false ] || fail "$h: failed=$failed unreachable=$unreach"
	[ "$changed" -gt 0 ] || fail "$h: a fresh host reported 0 changed"
done < "$T/sum"
ok "up converged 5 fresh hosts"

for h in "${HOSTS[@]}"; do
	f=/etc/datadog-agent/datadog.yaml
	[ "$(hssh "$h" hostname)" = "$h" ] || fail "$h: wrong hostname"
	[ "$(hssh "$h" stat -c %a:%U:%G $f)" = 640:root:root ] || fail "$h: $f mode/owner"
	hssh "$h" cat $f > "$T/dd.yaml"
	grep -qx "hostname: $h" "$T/dd.yaml" || fail "$h: hostname line"
	grep -qx "env: development:local" "$T/dd.yaml" || fail "$h: env line"
	grep -qx "api_key: \"$DD_API_KEY\"" "$T/dd.yaml" || fail "$h: api_key from the environment"
	grep -qx "logs_enabled: true" "$T/dd.yaml" || fail "$h: logs edit"
	grep -q "^# logs_enabled" "$T/dd.yaml" && fail "$h: logs edit left the comment"
	grep -qx "  enabled: true" "$T/dd.yaml" || fail "$h: apm edit"
	grep -A2 -x "process_config:" "$T/dd.yaml" | grep -qx "    enabled: true" || fail "$h: process edit"
	grep -qx "log_level: info" "$T/dd.yaml" || fail "$h: log_level edit"
	grep -qx "bind_host: $(addr "$h")" "$T/dd.yaml" || fail "$h: bind_host"
	[ "$(hssh "$h" stat -c %a /etc/datadog-agent/conf.d/system.yaml)" = 644 ] || fail "$h: system.yaml"
	hssh "$h" cat /etc/datadog-agent/conf.d/system.yaml | cmp -s - "$LC_SOURCE_DIR/roles/base/files/conf.d/system.yaml" \
		|| fail "$h: system.yaml content"
done
tags() { grep '^tags:' "$T/dd.yaml"; }
hssh postgresql cat /etc/datadog-agent/datadog.yaml > "$T/dd.yaml"
[ "$(tags)" = 'tags: ["env:development:local", "project:datadog-lab", "role:storage"]' ] || fail "postgresql tags: $(tags)"
hssh demo_api cat /etc/datadog-agent/datadog.yaml > "$T/dd.yaml"
[ "$(tags)" = 'tags: ["env:development:local", "project:datadog-lab", "role:demo:api"]' ] || fail "demo_api tags: $(tags)"
ok "agent configuration on every host: hostname, tags, env, api key, edits, modes"

hssh postgresql cat /etc/datadog-agent/conf.d/postgres.d/conf.yaml | grep -qx "  - host: $(addr postgresql)" || fail "postgres conf"
hssh chaos_engine cat /etc/datadog-agent/conf.d/my_metric.d/conf.yaml > "$T/mm"
printf 'init_config:\ninstances:\n  - min_collection_interval: 45\n' | cmp -s - "$T/mm" || fail "my_metric.yaml: $(cat "$T/mm")"
[ "$(hssh chaos_engine stat -c %a /etc/datadog-agent/checks.d/my_metric.py)" = 644 ] || fail "check mode"
hssh chaos_engine "grep -q '^class MyMetricCheck(AgentCheck):' /etc/datadog-agent/checks.d/my_metric.py" ||
	fail "my_metric.py is not the AgentCheck"
hssh chaos_engine test -f /opt/datadog-agent/bin/lab-agent-python/datadog_checks/base/__init__.py ||
	fail "lab-agent's datadog_checks.base is not on the host"
hssh demo_api cat /opt/lab/demo_api/app.py | cmp -s - "$LC_SOURCE_DIR/apps/demo_api/app.py" || fail "demo_api app"
hssh demo_api cat /etc/labctl/services/demo-api.env | grep -qx "APP_HOST='$(addr demo_api)'" || fail "demo_api env"
http_get "http://$(addr demo_api):8081/" | grep -q '"service":"demo-api"' || fail "the demo API does not answer"
hssh twitter_collector cat /etc/labctl/services/twitter-collector.env | grep -qx "PGHOST='$(addr postgresql)'" || fail "collector env"
hssh frontend cat /etc/lab/frontend-site.conf | grep -q "proxy_pass http://$(addr twitter_collector):8082/;" || fail "frontend upstream"
hssh demo_api test ! -e /etc/labctl/services/twitter-collector.env || fail "a role's file landed on the wrong host"
ok "role files on their hosts only"

# Every file is at least 2 s old: the second converge may remember every
# digest (one more batch, to write the digest cache), the third finds all.
sleep 2
lab --json converge postgresql chaos_engine demo_api twitter_collector frontend > "$T/second.json" \
	|| fail "second converge exited $?"
json_summary "$T/second.json" > "$T/sum2"
while read -r h changed failed unreach rt ch conn; do
	[ "$changed" = 0 ] || fail "$h: second converge changed $changed"
	[ "$conn" = 1 ] && [ "$ch" = 1 ] && [ "$rt" = 2 ] || fail "$h: second converge conn=$conn exec=$ch round_trips=$rt"
done < "$T/sum2"
[ "$(wc -l < "$T/sum2")" = 5 ] || fail "second summary"
ok "second converge: 0 changed, 1 connection / 1 exec channel / 2 batches per host (digests remembered)"

lab --json converge postgresql chaos_engine demo_api twitter_collector frontend > "$T/third.json" \
	|| fail "third converge exited $?"
json_summary "$T/third.json" > "$T/sum3"
while read -r h changed failed unreach rt ch conn; do
	[ "$changed" = 0 ] && [ "$conn" = 1 ] && [ "$ch" = 1 ] && [ "$rt" = 1 ] ||
		fail "$h: no-op cost changed=$changed conn=$conn exec=$ch round_trips=$rt"
done < "$T/sum3"
[ "$(wc -l < "$T/sum3")" = 5 ] || fail "third summary"
python3 - "$T/third.json" <<'PY' || fail "wire round trips: $(tail -1 "$T/third.json")"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
# TCP, banner and key exchange (2-3), service request, public key query and
# signature, channel open, exec with the facts inside: at most 9 waits (fewer
# on loopback, where an answer may come before labctl reads)
assert all(2 <= v["wire_round_trips"] <= 9 for v in s["hosts"].values()), s
PY
hssh demo_api 'stat -c %Y /var/lib/labctl/clock' > "$T/clock"
lab --json status demo_api > "$T/st.json" || fail "status after a no-op"
python3 - "$T/st.json" "$(cat "$T/clock")" <<'PY' || fail "last converge: $(cat "$T/st.json")"
import json, sys, datetime
s = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "status"][0]
want = datetime.datetime.fromtimestamp(int(sys.argv[2]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
assert s["last_converge"] == want, (s["last_converge"], want)
PY
ok "a no-op converge: 1 connection / 1 exec channel / 1 batch per host, at most 9 waits on the wire; status names it as the last converge"

lab up > "$T/up2.txt" || fail "second up exited $?"
grep -q "^RECAP" "$T/up2.txt" || fail "no recap"
grep -q "5 hosts: 0 changed, 0 restarts, 0 failed, 0 unreachable" "$T/up2.txt" || fail "recap: $(cat "$T/up2.txt")"
grep -q started "$T/up2.txt" && fail "second up restarted hosts"
ok "second up reuses the running hosts and changes nothing"
