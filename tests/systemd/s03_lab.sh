# The whole five-role lab on real systemd hosts, logged in as admin with
# sudo: every service active under systemd and every health check
# passing; a second converge changes nothing; a code change to the demo
# API restarts demo-api and nothing else.
LC_NET=${LC_NET:-73}
. "$(dirname "$0")/lib.sh"

HOSTS=(postgresql chaos_engine demo_api twitter_collector frontend)
MADE=(pg chaos api collector front)
host pg 1 --sudo &
host chaos 2 --sudo &
host api 3 --sudo &
host collector 4 --sudo &
host front 5 --sudo &
wait
for n in 1 2 3 4 5; do rssh $n true || fail "host 127.0.$LC_NET.$n"; done
ok "five systemd hosts"

cp -r "$LC_SOURCE_DIR/inventory" "$LC_SOURCE_DIR/roles" "$LC_SOURCE_DIR/apps" "$T/"
ln -s "$(cd "$(dirname "$LABCTL")" && pwd)" "$T/build"   # @build/: the agent binary
python3 - "$T/inventory/lab.yaml" "$LC_NET" "$T" <<'PY'
import re, sys
p, net, t = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(p).read()
s = s.replace("provider: local", "provider: ssh")
s = re.sub(r"address: 127\.0\.10\.", "address: 127.0.%s." % net, s)
s = s.replace("ssh:\n  user: root\n", "ssh:\n  user: admin\n  become: sudo\n"
              "  identity_file: %s/key\n  known_hosts: %s/known_hosts\n" % (t, t))
open(p, "w").write(s)
PY
INV=$T/inventory/lab.yaml
lab() { "$LABCTL" -i "$INV" "$@"; }
grep -q "become: sudo" "$INV" || fail "inventory rewrite"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
tail -8 "$T/up.txt"
grep -q "5 hosts: .* 0 failed, 0 unreachable" "$T/up.txt" || fail "recap"
[ "$(grep -c " healthy  health " "$T/up.txt")" = 4 ] || fail "health checks: $(grep health "$T/up.txt")"
check_active() {  # N SERVICE...
	local n=$1 s
	shift
	for s; do
		[ "$(rssh "$n" systemctl is-active "$s")" = active ] || fail "$s is not active on .$n"
		rssh "$n" test -f "/etc/systemd/system/$s.service" || fail "$s has no unit on .$n"
	done
}
check_active 1 lab-agent lab-postgresql
check_active 2 lab-agent
check_active 3 lab-agent demo-api
check_active 4 lab-agent twitter-collector
check_active 5 lab-agent frontend
PGPASSWORD=collector-lab-pw psql -h "127.0.$LC_NET.1" -U collector -d lab -Atc "select 1" | grep -qx 1 ||
	fail "psql as collector"
http_get "http://127.0.$LC_NET.3:8081/" | grep -q '"env":"development:local"' || fail "demo_api"
ok "up through sudo: every service active under systemd, every health check passes"

lab --json converge postgresql chaos_engine demo_api twitter_collector frontend > "$T/c2.json" ||
	{ cat "$T/c2.json"; fail "second converge"; }
json_summary "$T/c2.json" | awk '$2 != 0 || $3 != 0 || $5 != 2 || $7 != 1 { bad = 1; print } END { exit bad }' ||
	fail "second converge changed something: $(json_summary "$T/c2.json")"
ok "second converge: 0 changed on every host, two round trips each"

pids() { for n in 1 2 3 4 5; do rssh $n "systemctl show -p MainPID --value lab-agent"; done; rssh 3 systemctl show -p MainPID --value demo-api; }
before=$(pids)
echo "# a code change" >> "$T/apps/demo_api/app.py"
lab --json converge demo_api > "$T/c3.json" || { cat "$T/c3.json"; fail "converge demo_api"; }
python3 - "$T/c3.json" <<'PY' || fail "restarts: $(cat "$T/c3.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
svc = [(e["host"], e["path"], e.get("action")) for e in ev
       if e.get("event") == "op" and e["op"] == "service" and e["status"] == "changed"]
assert svc == [("demo_api", "demo-api", "restart")], svc
PY
after=$(pids)
[ "$(echo "$before" | head -5)" = "$(echo "$after" | head -5)" ] || fail "an agent was restarted"
[ "$(echo "$before" | tail -1)" != "$(echo "$after" | tail -1)" ] || fail "demo-api was not restarted"
rssh 3 "grep -qx '# a code change' /opt/lab/demo_api/app.py" || fail "the change is not on the host"
http_get "http://127.0.$LC_NET.3:8081/health" | grep -q ok || fail "demo_api after restart"
ok "converge demo_api after a code change restarts demo-api only"
