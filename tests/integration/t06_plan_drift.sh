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

# The digest cache: a file unchanged for 2 s is remembered by its stat
# signature (dev:ino:size:mtime:ctime) and not read again; a change that
# keeps its inode, size and mtime still moves its ctime, and is seen.
f=/etc/datadog-agent/conf.d/system.yaml
hssh postgresql "grep -q ' $f\$' /var/lib/labctl/sums" && fail "a file just written is in the digest cache"
sleep 2.2
lab converge postgresql > /dev/null || fail "converge after 2 s"
line=$(hssh postgresql "grep ' $f\$' /var/lib/labctl/sums") || fail "$f is not in the digest cache"
set -- $line
[ "$2" = "$(hssh postgresql "stat -c '%d:%i:%s:%.9Y:%.9Z' $f")" ] || fail "cache signature: $line"
[ "$3" = "$(hssh postgresql "sha256sum < $f" | cut -d' ' -f1)" ] || fail "cache digest: $line"
ok "a file unchanged for 2 s is in the host's digest cache, with its signature and digest"

# A cached digest is believed while the signature matches: a wrong one
# shows as drift (so the cache is what was read), and without the cache
# the file is read again.
hssh postgresql "cp /var/lib/labctl/sums /tmp/sums.good && sed -i 's| $3 $f\$| $(printf '0%.0s' $(seq 64)) $f|' /var/lib/labctl/sums"
set +e
lab plan postgresql > "$T/p6.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^postgresql  *drift  *file $f" "$T/p6.txt" || fail "a poisoned cache entry was not used: $rc $(cat "$T/p6.txt")"
hssh postgresql rm /var/lib/labctl/sums
lab plan postgresql > "$T/p7.txt" 2>&1 || fail "plan without the cache: $(cat "$T/p7.txt")"
hssh postgresql "mv /tmp/sums.good /var/lib/labctl/sums"
ok "the cached digest is what labctl believes while the signature matches"

# Same inode, size and mtime, one byte different: drift.
hssh postgresql "touch -r $f /tmp/ref && printf 'X' | dd of=$f bs=1 seek=0 conv=notrunc status=none && touch -r /tmp/ref $f"
[ "$(hssh postgresql "stat -c '%d:%i:%s:%.9Y' $f")" = "$(echo "$2" | cut -d: -f1-4)" ] || fail "the edit changed more than the content and ctime"
set +e
lab plan postgresql > "$T/p8.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^postgresql  *drift  *file $f" "$T/p8.txt" || fail "an in-place edit with mtime kept was missed: $rc $(cat "$T/p8.txt")"
grep -qx -- "    -X The agent's built-in system check: load, CPU, memory, disk." "$T/p8.txt" || fail "drift diff: $(cat "$T/p8.txt")"
lab converge postgresql > /dev/null || fail "converge"
hssh postgresql cat $f | cmp -s - "$LC_SOURCE_DIR/roles/base/files/conf.d/system.yaml" || fail "not repaired"
ok "an in-place edit that keeps size and mtime is drift, and is repaired"

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
