# The Datadog Agent flavor, offline: a local apt repository on 127.0.0.1
# (served by this test, signed with a key it makes, holding a small
# datadog-agent package it builds with dpkg-deb), reached through the
# inventory's agent.apt_url and key_file.  Checked with ssh and dpkg on the
# host: the apt source and key, the pinned version, the config files, the
# service, idempotency, and the restart rule (a config change or a new
# version restarts datadog-agent; nothing else does).
LC_NET=${LC_NET:-34}
. "$(dirname "$0")/lib.sh"

# -- a datadog-agent package: a stand-in that logs each start -------------
mkpkg() {  # VERSION
	local d=$T/pkg-$1
	mkdir -p "$d/DEBIAN" "$d/opt/datadog-agent/bin/agent"
	cat > "$d/DEBIAN/control" <<EOF
Package: datadog-agent
Version: $1
Architecture: all
Maintainer: labctl tests <t@lab.invalid>
Description: a stand-in for the Datadog Agent (labctl's tests)
EOF
	cat > "$d/opt/datadog-agent/bin/agent/agent" <<EOF
#!/bin/sh
# stand-in datadog-agent $1
case "\$1" in
run)
	mkdir -p /opt/datadog-agent/run
	echo "$1 \$\$" >> /opt/datadog-agent/run/starts
	exec sleep 100000 ;;
version) echo "Agent $1" ;;
status)
	# the shape of the real agent's status --json, in small
	printf '{"version":"%s","pid":%s,"runnerStats":{"Checks":{"my_metric":{"my_metric:5e1d":'\
'{"CheckName":"my_metric","TotalRuns":3,"LastError":"","MetricSamples":1}}}}}\n' \
		"\$(echo "$1" | sed 's/^1://; s/-1\$//')" "\$(tail -n 1 /opt/datadog-agent/run/starts | cut -d' ' -f2)" ;;
esac
EOF
	chmod 0755 "$d/opt/datadog-agent/bin/agent/agent"
	dpkg-deb --root-owner-group -b "$d" "$T/repo/pool/datadog-agent_$1_all.deb" > /dev/null ||
		fail "dpkg-deb $1"
}
mkdir -p "$T/repo/pool" "$T/repo/dists/lab/7/binary-amd64"
mkpkg 1:7.52.1-1
mkpkg 1:7.53.0-1

# -- the repository, signed ------------------------------------------------
export GNUPGHOME=$T/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "labctl test repo <t@lab.invalid>" ed25519 sign never ||
	fail "gpg key"
mkdir -p "$T/inventory/keys"
gpg --batch --armor --export > "$T/inventory/keys/repo.asc"
(cd "$T/repo" && dpkg-scanpackages --multiversion pool > dists/lab/7/binary-amd64/Packages 2>/dev/null) ||
	fail "dpkg-scanpackages"
python3 - "$T/repo/dists/lab" <<'PY'
import hashlib, os, sys, email.utils
d = sys.argv[1]
lines = ["Origin: labctl-test", "Label: labctl-test", "Suite: lab", "Codename: lab",
         "Architectures: amd64 all", "Components: 7",
         "Date: " + email.utils.formatdate(usegmt=True), "SHA256:"]
for rel in ["7/binary-amd64/Packages"]:
    data = open(os.path.join(d, rel), "rb").read()
    lines.append(" %s %d %s" % (hashlib.sha256(data).hexdigest(), len(data), rel))
open(os.path.join(d, "Release"), "w").write("\n".join(lines) + "\n")
PY
gpg --batch --yes --clearsign -o "$T/repo/dists/lab/InRelease" "$T/repo/dists/lab/Release" ||
	fail "signing"
python3 -m http.server --bind 127.0.0.1 0 --directory "$T/repo" > "$T/http.log" 2>&1 &
httpd=$!
trap 'kill $httpd 2>/dev/null || true; gpgconf --kill gpg-agent 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do
	port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "the repository's http server did not start"
ok "a signed apt repository with datadog-agent 1:7.52.1-1 and 1:7.53.0-1 on 127.0.0.1:$port"

# -- the host: first as the lab flavor; then only our repository ------------
lab up chaos_engine > "$T/up.txt" 2>&1 || fail "up: $(cat "$T/up.txt")"
# apt on the host must reach nothing but 127.0.0.1
hssh chaos_engine 'rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*'
agent_block() {  # VERSION
	python3 - "$INV" "$1" "$port" <<'PY'
import sys
p, version, port = sys.argv[1:]
s = open(p).read().split("\nagent:")[0]
s += ("\nagent:\n  flavor: datadog\n  version: \"%s\"\n  apt_url: http://127.0.0.1:%s/\n"
      "  apt_dist: lab\n  apt_component: \"7\"\n  key_file: keys/repo.asc\n" % (version, port))
open(p, "w").write(s)
PY
}
agent_block 7.52.1
lab --json converge chaos_engine > "$T/c1.json" 2> "$T/c1.err" || fail "converge datadog: $(cat "$T/c1.err" "$T/c1.json")"
hssh chaos_engine cat /etc/apt/sources.list.d/datadog.list > "$T/list"
grep -qx "deb \[signed-by=/etc/apt/keyrings/datadog-archive-keyring.asc\] http://127.0.0.1:$port/ lab 7" "$T/list" ||
	fail "apt source: $(cat "$T/list")"
hssh chaos_engine cat /etc/apt/keyrings/datadog-archive-keyring.asc | cmp -s - "$T/inventory/keys/repo.asc" ||
	fail "the signing key on the host is not the inventory's"
[ "$(hssh chaos_engine "dpkg-query -W -f '\${Version}' datadog-agent")" = 1:7.52.1-1 ] ||
	fail "datadog-agent is not at the pinned 1:7.52.1-1"
hssh chaos_engine "grep -qx 'hostname: chaos_engine' /etc/datadog-agent/datadog.yaml" || fail "datadog.yaml"
hssh chaos_engine test -f /etc/datadog-agent/conf.d/my_metric.d/conf.yaml || fail "conf.d"
for _ in $(seq 1 20); do hssh chaos_engine test -s /opt/datadog-agent/run/starts && break; sleep 0.25; done
[ "$(hssh chaos_engine "cut -d' ' -f1 /opt/datadog-agent/run/starts")" = 1:7.52.1-1 ] ||
	fail "datadog-agent did not start once: $(hssh chaos_engine cat /opt/datadog-agent/run/starts)"
hssh chaos_engine "pgrep -f '[l]ab-agent -c' >/dev/null" && fail "lab-agent still runs"
ok "flavor datadog: the repository and its key, datadog-agent at the pinned version, its config, started; lab-agent stopped"

lab --json converge chaos_engine > "$T/c2.json" || fail "second converge"
json_summary "$T/c2.json" | while read -r h changed rest; do
	[ "$changed" = 0 ] || fail "$h: the second converge changed $changed"
done
[ "$(hssh chaos_engine "wc -l < /opt/datadog-agent/run/starts")" = 1 ] || fail "restarted by a no-op"
ok "a second converge changes nothing and restarts nothing"

sed -i 's/tags: \[role:chaos\]/tags: [role:chaos, team:lab]/' "$INV"
lab --json converge chaos_engine > "$T/c3.json" || fail "converge with a new tag"
hssh chaos_engine "grep -q 'team:lab' /etc/datadog-agent/datadog.yaml" || fail "the tag is not in datadog.yaml"
[ "$(hssh chaos_engine "wc -l < /opt/datadog-agent/run/starts")" = 2 ] || fail "a config change did not restart it"
agent_block 7.53.0
lab --json converge chaos_engine > "$T/c4.json" || fail "converge 7.53.0"
[ "$(hssh chaos_engine "dpkg-query -W -f '\${Version}' datadog-agent")" = 1:7.53.0-1 ] || fail "not upgraded"
[ "$(hssh chaos_engine "tail -n 1 /opt/datadog-agent/run/starts | cut -d' ' -f1")" = 1:7.53.0-1 ] ||
	fail "the new version was not restarted: $(hssh chaos_engine cat /opt/datadog-agent/run/starts)"
ok "a config change restarts datadog-agent; a new version is installed and restarted"

lab status chaos_engine > "$T/status.txt" || fail "status: $(cat "$T/status.txt")"
pid=$(hssh chaos_engine "tail -n 1 /opt/datadog-agent/run/starts | cut -d' ' -f2")
grep -qx "    agent: Datadog Agent 7.53.0, pid $pid (datadog-agent status)" "$T/status.txt" ||
	fail "status: $(cat "$T/status.txt")"
grep -qx "    check my_metric: 3 runs, 1 metric samples last run" "$T/status.txt" ||
	fail "status checks: $(cat "$T/status.txt")"
grep -q "service datadog-agent: running" "$T/status.txt" || fail "status service: $(cat "$T/status.txt")"
lab --json status chaos_engine | python3 -c '
import json, sys
e = [json.loads(l) for l in sys.stdin if l.startswith("{")][0]
assert e["agent_flavor"] == "datadog" and e["agent"]["version"] == "7.53.0", e' || fail "status --json"
ok "labctl status reads datadog-agent status --json: version, pid, checks"
