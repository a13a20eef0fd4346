# A host that accepts TCP but never speaks SSH (a listener that says
# nothing): labctl gives up on it within the configured connect_timeout,
# says so naming the host, and the other hosts are unaffected.
LC_NET=${LC_NET:-41}
. "$(dirname "$0")/lib.sh"

lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
for h in "${HOSTS[@]}"; do hssh "$h" rm /etc/datadog-agent/conf.d/system.yaml; done

silent=127.0.$LC_NET.9
python3 - "$silent" > "$T/listener.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 22))
s.listen(16)
print("listening", flush=True)
held = []
while True:
    c, _ = s.accept()      # accept, then say nothing, ever
    held.append(c)
PY
listener=$!
trap 'kill $listener 2>/dev/null || true; cleanup' EXIT
for i in $(seq 1 50); do grep -q listening "$T/listener.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$T/listener.out" || fail "listener did not start: $(cat "$T/listener.out")"

# A sixth host on the silent address, and a 2 s connect timeout.
sed -i 's/^  connect_timeout: 10 .*/  connect_timeout: 2/' "$INV"
grep -q "^  connect_timeout: 2$" "$INV" || fail "could not set connect_timeout"
cat >> "$INV" <<YAML

  silent:
    address: $silent
    roles: []
YAML

run_lab "$T/c.txt" converge silent "${HOSTS[@]}"
[ "$RC" = 1 ] || fail "exit status $RC, expected 1: $(cat "$T/c.txt")"
grep -Eq "^silent +unreachable +silent \(127[.0-9]+:22\): timed out" "$T/c.txt" \
	|| fail "no line saying silent timed out: $(cat "$T/c.txt")"
grep -Eq "^silent .*unreachable=1" "$T/c.txt" || fail "recap: $(cat "$T/c.txt")"
for h in "${HOSTS[@]}"; do
	grep -Eq "^$h .*failed=0 +unreachable=0" "$T/c.txt" || fail "$h did not converge: $(cat "$T/c.txt")"
	hssh "$h" test -f /etc/datadog-agent/conf.d/system.yaml || fail "$h was not repaired"
done
# 2 s to connect: labctl may spend it on TCP, the banner and the key
# exchange, but not a second full timeout per stage.
lt "$SECS" 8 || fail "the silent host took $SECS s with connect_timeout: 2"
ok "a host that never speaks SSH times out in ${SECS}s (connect_timeout: 2); the others converge: $(grep '^silent ' "$T/c.txt" | head -1)"

# ping says the same, in bounded time.
run_lab "$T/p.txt" ping silent
[ "$RC" = 1 ] || fail "ping exit status $RC: $(cat "$T/p.txt")"
lt "$SECS" 8 || fail "ping of the silent host took $SECS s"
ok "ping of the silent host: exit 1 in ${SECS}s"
