# The API key (from $DD_API_KEY) and secret vars never appear in anything
# labctl prints or writes - output, diffs, --json, errors, the host state -
# and files holding a secret are 0640 or stricter.
LC_NET=${LC_NET:-29}
. "$(dirname "$0")/lib.sh"

KEY=sk-LABCTL-TEST-4f9d2a61c0e87b35
OLDKEY=sk-LABCTL-OLD-88e1c0b9a77d2f40
out=$T/all-output
: > "$out"
run() { set +e; "$@" >> "$out" 2>&1; local rc=$?; set -e; echo "$rc"; }

# A role that puts the secret in an edited line, a command env and a
# service env, and a failing command that prints it.
mkdir -p "$T/roles/leaky"
cat > "$T/roles/leaky/role.yaml" <<'YAML'
ops:
  - edit:
      path: /etc/leaky.conf
      create: true
      edits: [ { line: "token={{ dd_api_key }}", match: "^token=" } ]
  - service:
      name: leaky
      run: sleep 1000
      env: { TOKEN: "{{ dd_api_key }}" }
YAML
sed -i 's/roles: \[frontend\]/roles: [frontend, leaky]/' "$INV"

DD_API_KEY=$OLDKEY run lab up > /dev/null
DD_API_KEY=$OLDKEY run lab --json up > /dev/null
export DD_API_KEY=$KEY
[ "$(run lab plan)" = 2 ] || fail "plan with a new key should show pending changes"
run lab --json plan > /dev/null
grep -q "a secret value changes (not shown)" "$out" || fail "plan does not say a secret changes"
[ "$(run lab up)" = 0 ] || fail "up with the new key: $(tail -n 30 "$out" | sed "s/$KEY/KEY/g")"
run lab -v --json converge frontend > /dev/null
echo '  - command: { run: ''echo "the token is $TOKEN"; exit 1'', creates: /nonexistent, env: { TOKEN: "{{ dd_api_key }}" } }' >> "$T/roles/leaky/role.yaml"
[ "$(run lab converge frontend)" = 1 ] || fail "the failing converge should fail"
[ "$(run lab --json converge frontend)" = 1 ] || fail "the failing converge should fail (json)"
grep -q "the token is \*\*\*\*\*\*\*\*" "$out" || fail "the failing command's output is not shown masked: $(tail -5 "$out")"

for k in "$KEY" "$OLDKEY"; do
	if grep -F -- "$k" "$out"; then fail "a key appears in labctl's output"; fi
done
ok "no key in the output of up, plan, converge, --json, -v and a failing converge"

for h in "${HOSTS[@]}"; do
	if hssh "$h" "grep -rlF -- '$KEY' /var/lib/labctl /var/log/lab /run/lab 2>/dev/null"; then
		fail "the key is in labctl's state or logs on $h"
	fi
	[ "$(hssh "$h" stat -c %a /etc/datadog-agent/datadog.yaml)" = 640 ] || fail "$h: datadog.yaml mode"
	hssh "$h" "grep -qxF 'api_key: \"$KEY\"' /etc/datadog-agent/datadog.yaml" || fail "$h: the key did not reach the file"
done
[ "$(hssh frontend stat -c %a /etc/leaky.conf)" = 640 ] || fail "an edited file with a secret is not 0640"
[ "$(hssh frontend stat -c %a /etc/labctl/services/leaky.env)" = 600 ] || fail "service env with a secret is not 0600"
# (hosts/*/upper is the hosts' own disk, checked above)
if grep -rlF --exclude-dir=upper -- "$KEY" "$T/.lab"; then fail "the key is in the local state dir"; fi
ok "the key reaches its files (0640/0600) and nowhere else on the hosts or locally"
