# A host whose key changed (known_hosts holds another key for it): refused
# before logging in - no command runs there (a marker command is not run,
# and its sshd logs no accepted login) - the message says it may be an
# attack and names the host; the other hosts converge; exit status 1.
LC_NET=${LC_NET:-43}
. "$(dirname "$0")/lib.sh"

r=$T/roles/marker
mkdir -p "$r"
cat > "$r/role.yaml" <<'YAML'
ops:
  - command: { run: "date >> /var/tmp/marker-ran", unless: "false" }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, marker]/; s/roles: \[frontend\]/roles: [frontend, marker]/' "$INV"
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
hssh demo_api rm -f /var/tmp/marker-ran
hssh frontend rm -f /var/tmp/marker-ran

# What a login by labctl changes on the host: its lock holder and state.
trace() { hssh demo_api 'stat -c "%n %y" /var/lib/labctl/lock.holder /var/lib/labctl/state.json /var/lib/labctl/lock 2>&1'; }
before=$(trace)
a=$(addr demo_api)
cp "$T/.lab/known_hosts" "$T/known_hosts.good"
ssh-keygen -q -t ed25519 -N "" -f "$T/mitm" > /dev/null
grep -v "^$a " "$T/known_hosts.good" > "$T/.lab/known_hosts"
echo "$a $(cut -d' ' -f1,2 "$T/mitm.pub")" >> "$T/.lab/known_hosts"

run_lab "$T/c.txt" converge demo_api frontend
[ "$RC" = 1 ] || fail "exit status $RC, expected 1: $(cat "$T/c.txt")"
line=$(grep -E "^demo_api +unreachable " "$T/c.txt" | head -1)
[ -n "$line" ] || fail "demo_api not marked unreachable: $(cat "$T/c.txt")"
grep -qi "attack" <<< "$line" || fail "the message does not say it may be an attack: $line"
grep -q "$a" <<< "$line" || fail "the message does not name the address: $line"
grep -Eq "^frontend .*failed=0 +unreachable=0" "$T/c.txt" || fail "frontend did not converge"
cmp -s "$T/.lab/known_hosts" <(grep -v "^$a " "$T/known_hosts.good"; echo "$a $(cut -d' ' -f1,2 "$T/mitm.pub")") \
	|| fail "known_hosts was modified"
cp "$T/known_hosts.good" "$T/.lab/known_hosts"
hssh demo_api test ! -e /var/tmp/marker-ran || fail "a command ran on the host with the changed key"
[ "$(trace)" = "$before" ] || fail "labctl's lock or state changed on the host: $before -> $(trace)"
hssh frontend test -e /var/tmp/marker-ran || fail "the marker did not run on frontend"
ok "changed key: refused before login, no command ran, known_hosts untouched: ${line:0:200}"

# --accept-new-hostkeys does not override a changed key.
grep -v "^$a " "$T/known_hosts.good" > "$T/.lab/known_hosts"
echo "$a $(cut -d' ' -f1,2 "$T/mitm.pub")" >> "$T/.lab/known_hosts"
run_lab "$T/c2.txt" --accept-new-hostkeys converge demo_api
[ "$RC" = 1 ] || fail "--accept-new-hostkeys accepted a changed key (exit $RC)"
grep -qi attack "$T/c2.txt" || fail "--accept-new-hostkeys message: $(cat "$T/c2.txt")"
cp "$T/known_hosts.good" "$T/.lab/known_hosts"
hssh demo_api test ! -e /var/tmp/marker-ran || fail "a command ran with --accept-new-hostkeys"
ok "--accept-new-hostkeys does not accept a changed key"
