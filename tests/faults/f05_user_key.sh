# Wrong user key: a clear authentication error naming the host, the user and
# the key; an RSA key (even one the host authorizes): the message says RSA
# keys cannot log in to OpenSSH 8.8+ with libssh2 1.10.  Exit 1, nothing runs.
LC_NET=${LC_NET:-44}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
hssh demo_api rm /etc/datadog-agent/conf.d/system.yaml
cp "$INV" "$T/good.yaml"

with_key() { # KEYFILE: the inventory logs in with it
	cp "$T/good.yaml" "$INV"
	sed -i "s|^  port: 22$|  port: 22\n  identity_file: $1|" "$INV"
	grep -q "identity_file: $1" "$INV" || fail "could not set identity_file"
}

# 1. A valid ed25519 key the host does not authorize.
ssh-keygen -q -t ed25519 -N "" -f "$T/stranger" > /dev/null
with_key "$T/stranger"
run_lab "$T/c1.txt" converge demo_api
[ "$RC" = 1 ] || fail "unauthorized key: exit $RC: $(cat "$T/c1.txt")"
line=$(grep -E "^demo_api +unreachable " "$T/c1.txt" | head -1)
grep -q "authentication as root failed with key $T/stranger" <<< "$line" || fail "unauthorized key message: $(cat "$T/c1.txt")"
grep -qi "RSA" <<< "$line" && fail "the RSA advice for an ed25519 key: $line"
hssh demo_api test ! -e /etc/datadog-agent/conf.d/system.yaml || fail "something ran with the wrong key"
ok "unauthorized ed25519 key: ${line:0:200}"

# 2. A missing key file.
with_key "$T/no-such-key"
run_lab "$T/c2.txt" converge demo_api
[ "$RC" = 1 ] || [ "$RC" = 3 ] || fail "missing key: exit $RC: $(cat "$T/c2.txt")"
grep -q "no-such-key" "$T/c2.txt" || fail "missing key file not named: $(cat "$T/c2.txt")"
ok "missing key file (exit $RC): $(grep no-such-key "$T/c2.txt" | head -1 | cut -c1-200)"

# 3. RSA keys, authorized on the host (OpenSSH itself logs in with them):
# OpenSSH format with and without its .pub, and PEM.
rsa_case() { # NAME KEYGEN-ARGS...
	local n=$1
	shift
	ssh-keygen -q -t rsa -b 2048 -N "" "$@" -f "$T/$n" > /dev/null
	hssh demo_api "cat >> /root/.ssh/authorized_keys" < "$T/$n.pub"
	ssh -i "$T/$n" -o IdentitiesOnly=yes -o UserKnownHostsFile="$T/.lab/known_hosts" -o StrictHostKeyChecking=yes \
		-o BatchMode=yes -o LogLevel=ERROR "root@$(addr demo_api)" true || fail "OpenSSH cannot log in with $n"
	[ "${NOPUB:-}" = 1 ] && rm "$T/$n.pub"
	with_key "$T/$n"
	run_lab "$T/$n.txt" converge demo_api
	[ "$RC" = 1 ] || fail "$n: exit $RC: $(cat "$T/$n.txt")"
	line=$(grep -E "^demo_api +unreachable " "$T/$n.txt" | head -1)
	grep -q "RSA keys cannot log in to OpenSSH 8.8 or later with libssh2 1.10" <<< "$line" \
		|| fail "$n: no RSA advice: $(cat "$T/$n.txt")"
	grep -q "$T/$n" <<< "$line" || fail "$n: the key is not named: $line"
	hssh demo_api test ! -e /etc/datadog-agent/conf.d/system.yaml || fail "something ran with $n"
	ok "$n: ${line:0:220}"
}
rsa_case rsa_openssh
NOPUB=1 rsa_case rsa_openssh_nopub
rsa_case rsa_pem -m PEM
NOPUB=1 rsa_case rsa_pem_nopub -m PEM

# The good key still works.
cp "$T/good.yaml" "$INV"
lab converge demo_api > /dev/null || fail "the lab's own key no longer works"
hssh demo_api test -e /etc/datadog-agent/conf.d/system.yaml || fail "not converged with the right key"
ok "the right key converges"
