# Two labctl processes on one host: the second waits for the first (the
# lock serializes them: t08 covers the plain case).  Here the first one is
# killed (SIGKILL) while it holds the lock in the middle of a slow command:
# the README says the lock "goes away with the connection, even if labctl is
# killed" - so the second one gets it at once, and the killed one's work
# does not go on running on the host unattended.
LC_NET=${LC_NET:-46}
. "$(dirname "$0")/lib.sh"

cat >> "$T/roles/frontend/role.yaml" <<'YAML'
  - command:
      run: 'echo "start $LABEL $$" >> /var/tmp/serial.log; sleep 8; echo "end $LABEL $$" >> /var/tmp/serial.log'
      unless: 'false'
      env: { LABEL: "{{ inventory_hostname }}" }
YAML
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
hssh frontend 'rm -f /var/tmp/serial.log'

# Plain serialization first: two at once never overlap on the host.
"$LABCTL" -i "$INV" converge frontend > "$T/a.txt" 2>&1 & a=$!
"$LABCTL" -i "$INV" converge frontend > "$T/b.txt" 2>&1 & b=$!
wait $a || fail "first concurrent converge: $(cat "$T/a.txt")"
wait $b || fail "second concurrent converge: $(cat "$T/b.txt")"
hssh frontend cat /var/tmp/serial.log | sed 's/ [0-9]*$//' > "$T/serial"
printf '%s\n' "start frontend" "end frontend" "start frontend" "end frontend" | diff -u - "$T/serial" \
	|| fail "two concurrent converges overlapped"
ok "two concurrent converges of one host serialize"

# Now kill the first while its slow command runs.
hssh frontend 'rm -f /var/tmp/serial.log'
"$LABCTL" -i "$INV" converge frontend > "$T/k.txt" 2>&1 & k=$!
for i in $(seq 1 100); do hssh frontend 'test -s /var/tmp/serial.log' 2>/dev/null && break; sleep 0.1; done
hssh frontend 'test -s /var/tmp/serial.log' || fail "the slow command did not start"
kill -9 $k
wait $k 2>/dev/null || true
t0=$(date +%s.%N)
run_lab "$T/second.txt" --lock-timeout 60 converge frontend
waited=$(since "$t0" 8)
[ "$RC" = 0 ] || fail "the second labctl failed: $(cat "$T/second.txt")"
hssh frontend cat /var/tmp/serial.log > "$T/serial2"
# The killed converge's command must not have gone on to its end.
if grep -q "^end" <(head -2 "$T/serial2" | sed -n 2p); then
	bad "the killed labctl's command went on running on the host after labctl died (log: $(tr '\n' '|' < "$T/serial2"))"
fi
# The second converge ran its own 8 s command; beyond that it waited ${waited}s for the lock.
if lt 2 "$waited"; then
	bad "the lock outlived the killed labctl's connection: the second labctl waited ${waited}s for it"
else
	ok "the lock went away with the killed labctl (waited ${waited}s)"
fi
finish
