# A host whose key changed is refused and nothing runs on it; an unknown
# host is refused unless --accept-new-hostkeys.
LC_NET=${LC_NET:-23}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
hssh demo_api rm /etc/labctl/services/demo-api.env

# Replace demo_api's known key with another valid key.
ssh-keygen -q -t ed25519 -N "" -f "$T/other" >/dev/null
cp "$T/.lab/known_hosts" "$T/known_hosts.good"
a=$(addr demo_api)
grep -v "^$a " "$T/known_hosts.good" > "$T/.lab/known_hosts"
echo "$a $(cut -d' ' -f1,2 "$T/other.pub")" >> "$T/.lab/known_hosts"

set +e
lab converge demo_api frontend > "$T/out.txt" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep "demo_api" "$T/out.txt" | grep -q "unreachable" || fail "demo_api not marked unreachable: $(cat "$T/out.txt")"
grep -qi "attack" "$T/out.txt" || fail "the message does not say it may be an attack: $(cat "$T/out.txt")"
grep -q "^frontend .*failed=0 .*unreachable=0" "$T/out.txt" || fail "frontend did not converge"
cp "$T/known_hosts.good" "$T/.lab/known_hosts"
hssh demo_api test ! -e /etc/labctl/services/demo-api.env || fail "something ran on the host with the changed key"
ok "a changed host key refuses the host, nothing runs there, the others converge"

# Unknown host: refused, then accepted and recorded with --accept-new-hostkeys.
grep -v "^$a " "$T/known_hosts.good" > "$T/.lab/known_hosts"
set +e
lab converge demo_api > "$T/out2.txt" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "unknown host: exit $rc"
grep -q "accept-new-hostkeys" "$T/out2.txt" || fail "unknown host message: $(cat "$T/out2.txt")"
hssh_unknown() { ssh -i "$T/.lab/id_ed25519" -o UserKnownHostsFile="$T/.lab/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR "root@$a" "$@"; }
hssh_unknown true 2>/dev/null && fail "known_hosts was changed without --accept-new-hostkeys"
lab --accept-new-hostkeys converge demo_api > "$T/out3.txt" 2>&1 || fail "accept-new: $(cat "$T/out3.txt")"
hssh_unknown test -f /etc/labctl/services/demo-api.env || fail "accepted host was not converged, or its key was not recorded for OpenSSH"
ok "an unknown host is refused, and accepted and recorded with --accept-new-hostkeys"

# ping: every host answers; a stopped host is named unreachable (exit 1).
lab ping > "$T/ping.txt" 2>&1 || fail "ping: $(cat "$T/ping.txt")"
[ "$(grep -c " pong (" "$T/ping.txt")" = 5 ] || fail "ping: $(cat "$T/ping.txt")"
lab down frontend > /dev/null
set +e
lab ping > "$T/ping2.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "^frontend .*unreachable" "$T/ping2.txt" || fail "ping with a host down: $rc $(cat "$T/ping2.txt")"
ok "ping: 5 pongs; a stopped host is unreachable, exit 1"
