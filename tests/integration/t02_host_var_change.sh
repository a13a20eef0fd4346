# Changing one host var changes exactly the files that use it, on exactly
# the hosts whose files use it; converging one role touches only its hosts.
LC_NET=${LC_NET:-22}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }

# demo_api's `service` var is used only by its service's environment file:
# that file changes on that host, and the service restarts.
sed -i 's/service: demo-api$/service: demo-api-v2/' "$INV"
lab --json up > "$T/a.json" || fail "converge after var change exited $?"
changed_ops "$T/a.json" > "$T/a"
printf '%s\n' "demo_api service /etc/labctl/services/demo-api.env" "demo_api service demo-api" > "$T/want"
diff -u "$T/want" "$T/a" || fail "changed set"
hssh demo_api cat /etc/labctl/services/demo-api.env | grep -qx "DD_SERVICE='demo-api-v2'" || fail "new value not on demo_api"
http_get "http://$(addr demo_api):8081/" | grep -q '"service":"demo-api-v2"' || fail "the service did not restart with the new value"
ok "a host var used by one file changes that file on that host only (and restarts its service)"

# twitter_collector's app_port is used by its own env file and, through
# hosts.twitter_collector.app_port, by the frontend's page config.
sed -i 's/app_port: "8082"/app_port: "9082"/' "$INV"
lab --json up > "$T/b.json" || fail "converge exited $?"
changed_ops "$T/b.json" > "$T/b"
printf '%s\n' "frontend service frontend" "frontend template /etc/lab/frontend-site.conf" \
	"twitter_collector service /etc/labctl/services/twitter-collector.env" \
	"twitter_collector service twitter-collector" > "$T/want"
diff -u "$T/want" "$T/b" || fail "changed set"
hssh frontend cat /etc/lab/frontend-site.conf | grep -q ":9082/;" || fail "frontend not updated"
hssh twitter_collector cat /etc/labctl/services/twitter-collector.env | grep -qx "APP_PORT='9082'" || fail "collector not updated"
http_get "http://$(addr frontend):8080/api/health" | grep -q '"status"' || fail "the front page's upstream does not answer after the change"
ok "a var read through hosts.NAME changes the files that use it on every host that reads it"

# A change for every host, then converge only the demo_api role: only the
# demo_api host is touched (checked on every host with ssh).
for h in "${HOSTS[@]}"; do hssh "$h" rm /etc/datadog-agent/conf.d/system.yaml; done
lab --json converge demo_api > "$T/c.json" || fail "converge demo_api exited $?"
json_summary "$T/c.json" | awk '{print $1}' > "$T/c"
[ "$(cat "$T/c")" = demo_api ] || fail "converge demo_api ran on: $(cat "$T/c")"
hssh demo_api test -f /etc/datadog-agent/conf.d/system.yaml || fail "demo_api not repaired"
for h in postgresql chaos_engine twitter_collector frontend; do
	hssh "$h" test ! -e /etc/datadog-agent/conf.d/system.yaml || fail "converge demo_api touched $h"
done
ok "converge demo_api touches only the demo_api host"
