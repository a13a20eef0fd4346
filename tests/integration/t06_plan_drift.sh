# plan changes nothing and says what would change (with a diff), exits
# 0/2; a hand edit on a host is drift, and converge repairs it.
LC_NET=${LC_NET:-26}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
set +e
lab plan > "$T/p0.txt" 2>&1; rc=$?
set -e
[ "$rc" = 0 ] || fail "plan after up exited $rc: $(cat "$T/p0.txt")"
grep -q "5 hosts: 0 pending" "$T/p0.txt" || fail "plan after up: $(cat "$T/p0.txt")"
grep -Eq " (pending|drift) " "$T/p0.txt" && fail "plan after up lists changes"
ok "plan after up: exit 0, no changes"

sed -i 's/dd_site: datadoghq.com/dd_site: datadoghq.eu/' "$INV"
set +e
lab plan > "$T/p1.txt" 2>&1; rc=$?
lab --json plan demo_api > "$T/p1.json" 2>&1
set -e
[ "$rc" = 2 ] || fail "plan with a changed var exited $rc"
[ "$(grep -c "pending  template /etc/datadog-agent/datadog.yaml" "$T/p1.txt")" = 5 ] || fail "plan: $(cat "$T/p1.txt")"
grep -qx -- "    -site: datadoghq.com" "$T/p1.txt" || fail "diff: no - line"
grep -qx -- "    +site: datadoghq.eu" "$T/p1.txt" || fail "diff: no + line"
python3 - "$T/p1.json" <<'PY' || fail "plan --json"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1]) if '"op"' in l]
assert len(ops) == 2, ops
o = ops[0]
assert o["op"] == "template" and o["status"] == "pending" and o["why"] == "pending", o
assert "+site: datadoghq.eu" in o["diff"], o
# the agent watches its config: it would restart
assert ops[1]["op"] == "service" and ops[1]["path"] == "lab-agent" and ops[1]["action"] == "restart", ops[1]
PY
for h in "${HOSTS[@]}"; do
	hssh "$h" "grep -qx 'site: datadoghq.com' /etc/datadog-agent/datadog.yaml" || fail "plan changed $h"
done
ok "plan with a changed var: exit 2, a diff per host, nothing changed on the hosts"
sed -i 's/dd_site: datadoghq.eu/dd_site: datadoghq.com/' "$INV"

hssh postgresql 'echo "# edited by hand" >> /etc/datadog-agent/conf.d/system.yaml'
set +e
lab plan > "$T/p2.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "plan with drift exited $rc"
grep -q "^postgresql  *drift  *file /etc/datadog-agent/conf.d/system.yaml" "$T/p2.txt" || fail "drift: $(cat "$T/p2.txt")"
grep -qx -- "    -# edited by hand" "$T/p2.txt" || fail "drift diff"
[ "$(grep -c " drift " "$T/p2.txt")" = 1 ] || fail "drift on other paths: $(cat "$T/p2.txt")"
ok "a hand edit shows as drift in plan"

lab converge postgresql > "$T/c.txt" 2>&1 || fail "converge"
grep -q "postgresql .*changed  file /etc/datadog-agent/conf.d/system.yaml (drift repaired)" "$T/c.txt" || fail "converge: $(cat "$T/c.txt")"
hssh postgresql cat /etc/datadog-agent/conf.d/system.yaml | cmp -s - "$LC_SOURCE_DIR/roles/base/files/conf.d/system.yaml" || fail "not repaired"
set +e
lab plan > "$T/p3.txt" 2>&1; rc=$?
set -e
[ "$rc" = 0 ] || fail "plan after repair exited $rc: $(cat "$T/p3.txt")"
ok "converge repairs the drift and says so; plan is clean again"

# A binary: sizes and digests, no diff.
mkdir -p "$T/roles/frontend/files"
head -c 4096 /dev/urandom > "$T/roles/frontend/files/logo.bin"
echo '  - file: { src: logo.bin, dest: /var/www/lab/logo.bin }' >> "$T/roles/frontend/role.yaml"
lab converge frontend > /dev/null || fail "converge frontend"
head -c 5000 /dev/urandom > "$T/roles/frontend/files/logo.bin"
set +e
lab plan frontend > "$T/p4.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "binary plan exit $rc"
grep -Eq "binary: 4096 bytes sha256:[0-9a-f]{16}\.\.\. -> 5000 bytes sha256:[0-9a-f]{16}\.\.\." "$T/p4.txt" || fail "binary plan: $(cat "$T/p4.txt")"
ok "a binary change shows sizes and digests"

# Unreachable host: exit 1.
lab down frontend > /dev/null
set +e
lab plan > "$T/p5.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "plan with a host down exited $rc"
grep -q "^frontend .*unreachable" "$T/p5.txt" || fail "unreachable not named: $(cat "$T/p5.txt")"
ok "plan with a host down: exit 1, the host named unreachable"
