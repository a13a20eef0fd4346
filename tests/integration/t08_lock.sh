# One labctl at a time per host: a second one waits for the lock, then
# fails for that host naming who holds it; other hosts proceed. Two
# concurrent converges of one host serialize.
LC_NET=${LC_NET:-28}
. "$(dirname "$0")/lib.sh"

# A command that always runs, and logs when it starts and ends.
cat >> "$T/roles/frontend/role.yaml" <<'YAML'
  - command:
      run: 'echo "start $LABEL" >> /var/tmp/serial.log; sleep 1; echo "end $LABEL" >> /var/tmp/serial.log'
      unless: 'false'
      env: { LABEL: "{{ inventory_hostname }}" }
YAML
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }

# Hold demo_api's lock from outside, as another labctl would.
hssh demo_api 'exec 9>>/var/lib/labctl/lock; flock 9; echo "labctl converge (pid 4242 on elsewhere)" > /var/lib/labctl/lock.holder; echo held; sleep 6' > "$T/holder.out" &
holder=$!
for i in $(seq 1 50); do grep -q held "$T/holder.out" 2>/dev/null && break; sleep 0.1; done
grep -q held "$T/holder.out" || fail "could not take the lock from outside"
set +e
lab --lock-timeout 1 converge demo_api postgresql > "$T/c.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "converge of a locked host exited $rc"
grep -q "^demo_api .*failed.*locked by labctl converge (pid 4242 on elsewhere); gave up after 1 s" "$T/c.txt" || fail "message: $(cat "$T/c.txt")"
grep -q "^postgresql .*failed=0 .*unreachable=0" "$T/c.txt" || fail "the other host did not proceed"
wait "$holder" || true
lab converge demo_api > /dev/null || fail "converge after the lock was released"
ok "a locked host waits --lock-timeout, then fails naming the holder; others proceed"

hssh frontend 'rm -f /var/tmp/serial.log'
lab converge frontend > "$T/a.txt" 2>&1 &
a=$!
lab converge frontend > "$T/b.txt" 2>&1 &
b=$!
wait "$a" || fail "first concurrent converge: $(cat "$T/a.txt")"
wait "$b" || fail "second concurrent converge: $(cat "$T/b.txt")"
hssh frontend cat /var/tmp/serial.log > "$T/serial.log"
printf '%s\n' "start frontend" "end frontend" "start frontend" "end frontend" > "$T/want"
diff -u "$T/want" "$T/serial.log" || fail "the two converges overlapped on the host"
ok "two concurrent converges of one host serialize"
