# The connection cut in the middle of a large push (the host's sshd session
# killed while a 64 MiB file is on its way): the target is the old content
# or the new, never partial; the next converge completes it and leaves no
# labctl temp file behind.
LC_NET=${LC_NET:-42}
. "$(dirname "$0")/lib.sh"

r=$T/roles/bigpush
mkdir -p "$r/files"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$r/files/big.bin"
cat > "$r/role.yaml" <<'YAML'
ops:
  - file: { src: big.bin, dest: /opt/big/big.bin, mode: "0644" }
  - file: { src: small.txt, dest: /opt/big/small.txt }
YAML
echo one > "$r/files/small.txt"
sed -i 's/roles: \[demo_api\]/roles: [demo_api, bigpush]/' "$INV"
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
old=$(sha256sum < "$r/files/big.bin" | cut -c1-64)
[ "$(sha_on demo_api /opt/big/big.bin)" = "$old" ] || fail "first push"
ok "64 MiB file pushed"

# New content, then cut demo_api's connection while it is pushed: watch the
# host's upper dir from outside for labctl's temp file.
head -c $((64 * 1024 * 1024)) /dev/urandom > "$r/files/big.bin"
new=$(sha256sum < "$r/files/big.bin" | cut -c1-64)
echo two > "$r/files/small.txt"
upper=$T/.lab/hosts/demo_api/upper/opt/big
"$LABCTL" -i "$INV" converge demo_api frontend > "$T/c.txt" 2>&1 &
lpid=$!
sz=$(cut_when_file demo_api "$upper/.labctl.big.bin.*" $((4 * 1024 * 1024)) 60) || sz=
set +e
wait $lpid
rc=$?
set -e
[ -n "$sz" ] || fail "could not catch the push in flight: $(cat "$T/c.txt")"
partial=$(stat -c %s "$upper"/.labctl.big.bin.* 2>/dev/null | head -1 || true)  # the host's watchdog may have removed it already
echo "# cut at ${sz} bytes; temp file now ${partial:-gone} bytes; labctl exit $rc"
[ "$rc" = 1 ] || fail "exit status $rc after the cut, expected 1: $(cat "$T/c.txt")"
grep -Eq "^demo_api +(failed|unreachable) " "$T/c.txt" || fail "no line about demo_api: $(cat "$T/c.txt")"
grep -E "^demo_api +(failed|unreachable) " "$T/c.txt" | head -1 | grep -qi "big.bin\|connection\|closed\|disconnect" \
	|| fail "the message says neither what nor why: $(grep '^demo_api ' "$T/c.txt")"
grep -Eq "^frontend .*failed=0 +unreachable=0" "$T/c.txt" || fail "frontend did not converge: $(cat "$T/c.txt")"
got=$(sha_on demo_api /opt/big/big.bin)
[ "$got" = "$old" ] || [ "$got" = "$new" ] || fail "the target is neither the old nor the new content (partial?): $got"
[ "$(hssh demo_api cat /opt/big/small.txt)" = one ] || fail "an op after the failed push ran"
ok "cut mid-push: exit 1, '$(grep -E '^demo_api +(failed|unreachable) ' "$T/c.txt" | head -1 | cut -c1-150)'; the target is $([ "$got" = "$old" ] && echo old || echo new), never partial"

run_lab "$T/c2.txt" converge demo_api
[ "$RC" = 0 ] || fail "the next converge failed: $(cat "$T/c2.txt")"
[ "$(sha_on demo_api /opt/big/big.bin)" = "$new" ] || fail "the next converge did not complete the push"
[ "$(hssh demo_api cat /opt/big/small.txt)" = two ] || fail "the next converge did not run the later op"
ok "the next converge completes the push"
left=$(hssh demo_api "find /opt/big /var/lib/labctl/stage -name '.labctl.*' 2>/dev/null; find /var/lib/labctl/stage -type f 2>/dev/null" || true)
if [ -n "$left" ]; then
	bad "the partial temp file of the cut push is still on the host after the next converge: $left ($(hssh demo_api "du -ch $left | tail -1"))"
else
	ok "no labctl temp file left on the host after the next converge"
fi
finish
