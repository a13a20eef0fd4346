# An inventory or role with an error gets file:line:col, exit status 3, and
# no host is touched.
LC_NET=${LC_NET:-24}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
for h in "${HOSTS[@]}"; do hssh "$h" rm /etc/datadog-agent/conf.d/system.yaml; done
cp "$INV" "$T/good.yaml"

expect_error() { # what pattern
	set +e
	lab up > "$T/err.out" 2> "$T/err.txt"
	local rc=$?
	set -e
	[ "$rc" = 3 ] || fail "$1: exit status $rc, expected 3"
	grep -Eq "$2" "$T/err.txt" || fail "$1: message: $(cat "$T/err.txt")"
	for h in "${HOSTS[@]}"; do
		hssh "$h" test ! -e /etc/datadog-agent/conf.d/system.yaml || fail "$1: $h was touched"
	done
	cp "$T/good.yaml" "$INV"
	ok "$1: $(head -1 "$T/err.txt")"
}

sed -i 's/^    address: 127.0.24.3/    adress: 127.0.24.3/' "$INV"
expect_error "unknown key" "lab\.yaml:[0-9]+:[0-9]+: unknown key 'adress' in a host \(expected one of: address"

sed -i 's/^    roles: \[frontend\]/    roles: [frontend]\n    roles: [web]/' "$INV"
expect_error "duplicate key" "lab\.yaml:[0-9]+:[0-9]+: duplicate key 'roles' \(first defined at line [0-9]+\)"

sed -i 's/^  port: 22/  port: twenty-two/' "$INV"
expect_error "wrong type" "lab\.yaml:[0-9]+:[0-9]+: expected an integer from 1 to 65535"

printf 'hosts:\n  x: [unclosed\n' > "$INV"
expect_error "syntax error" "lab\.yaml:[0-9]+:[0-9]+: "

sed -i 's/roles: \[demo_api\]/roles: [demo_apj]/' "$INV"
expect_error "undefined role" "lab\.yaml:[0-9]+:[0-9]+: undefined role 'demo_apj'"

echo '  - template: { src: datadog.yaml, dest: /etc/x, mode: "0640", owner: "{{ no_such_var }}" }' >> "$T/roles/base/role.yaml"
expect_error "undefined variable" "role\.yaml:[0-9]+:[0-9]+ 'owner':1: undefined variable 'no_such_var'"
cp "$LC_SOURCE_DIR/roles/base/role.yaml" "$T/roles/base/role.yaml"

echo '# {{ missing }}' >> "$T/roles/postgresql/templates/pg_hba.conf"
expect_error "undefined variable in a template" "postgresql/templates/pg_hba\.conf:[0-9]+: undefined variable 'missing'"
cp "$LC_SOURCE_DIR/roles/postgresql/templates/pg_hba.conf" "$T/roles/postgresql/templates/pg_hba.conf"

echo '  - file: { src: ../../base/role.yaml, dest: /etc/x }' >> "$T/roles/frontend/role.yaml"
expect_error "src escaping the role" "role\.yaml:[0-9]+:[0-9]+: src '\.\./\.\./base/role\.yaml' must be a relative path inside"
cp "$LC_SOURCE_DIR/roles/frontend/role.yaml" "$T/roles/frontend/role.yaml"

set +e
lab converge no_such_host > /dev/null 2> "$T/err.txt"
rc=$?
set -e
[ "$rc" = 3 ] && grep -q "'no_such_host' is neither a host nor a role" "$T/err.txt" || fail "unknown target: $rc $(cat "$T/err.txt")"
ok "unknown target"

# up checks every role before it starts a host: a role error leaves the
# stopped hosts stopped.
lab down frontend > /dev/null 2>&1 || fail "down frontend"
ss -Hltn "src $(addr frontend)" | grep -q . && fail "frontend still listens after down"
echo '  - template: { src: nope.conf, dest: /etc/x }' >> "$T/roles/frontend/role.yaml"
set +e
lab up > /dev/null 2> "$T/err.txt"
rc=$?
set -e
[ "$rc" = 3 ] && grep -q "nope.conf" "$T/err.txt" || fail "up with a role error: $rc $(cat "$T/err.txt")"
ss -Hltn "src $(addr frontend)" | grep -q . && fail "up started frontend although a role failed to load"
cp "$LC_SOURCE_DIR/roles/frontend/role.yaml" "$T/roles/frontend/role.yaml"
ok "up with a role error starts no host"

lab up > "$T/up.txt" 2>&1 || fail "up with the good inventory again"
for h in "${HOSTS[@]}"; do hssh "$h" test -f /etc/datadog-agent/conf.d/system.yaml || fail "$h not repaired"; done
ok "the fixed inventory converges"
