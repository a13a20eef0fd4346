# Converges back to back, each pushing changed files and restarting a
# service: the watchdog of the
# previous connection wakes up to 0.2 s after its labctl left, by when the
# next converge may have pushed its files already.  It must remove only
# its own converge's uploads, never the next one's.
LC_NET=${LC_NET:-39}
. "$(dirname "$0")/lib.sh"

r=$T/roles/churn
mkdir -p "$r/files"
echo 0 > "$r/files/n.txt"
: > "$r/files/big.bin"
cat > "$r/role.yaml" <<'YAML'
ops:
  - file: { src: n.txt, dest: /opt/churn/n.txt }
  - file: { src: big.bin, dest: /opt/churn/big.bin }
  - file: { src: n.txt, dest: /opt/churn/copy.txt }
  - service: { name: churn, run: "sleep 1000", restart_on: [/opt/churn/n.txt] }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, churn]/' "$INV"
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }

# (the large push keeps the small files' uploads waiting for the apply
# batch for a while: the window the old watchdogs hit)
for i in $(seq 1 24); do
	echo "$i" > "$r/files/n.txt"
	head -c $((4 * 1024 * 1024)) /dev/urandom > "$r/files/big.bin"
	# (none, one or two plans between them, each with a watchdog of its
	# own: the next push comes 0.1 to 0.4 s after the last connection)
	for j in $(seq 1 $((i % 3))); do run_lab "$T/p$i.txt" plan demo_api; done
	run_lab "$T/c$i.txt" converge demo_api
	[ "$RC" = 0 ] || { cat "$T/c$i.txt"; fail "converge $i (right after the one before) exited $RC"; }
	grep -q "changed  file /opt/churn/copy.txt" "$T/c$i.txt" || fail "converge $i: $(cat "$T/c$i.txt")"
done
[ "$(hssh demo_api cat /opt/churn/n.txt /opt/churn/copy.txt | tr '\n' ' ')" = "24 24 " ] || fail "the last content did not land"
[ "$(sha_on demo_api /opt/churn/big.bin)" = "$(sha256sum < "$r/files/big.bin" | cut -c1-64)" ] || fail "big.bin"
ok "24 converges back to back, each pushing 3 files and restarting a service: every push landed"

sleep 0.5
left=$(hssh demo_api "ls /var/lib/labctl/ | grep '^temps' || true")
[ -z "$left" ] || fail "upload lists left on the host: $left"
no_temps demo_api /opt/churn || fail "temp files left"
ok "no upload list or temp file is left once the watchdogs are done"
