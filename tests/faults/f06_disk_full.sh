# The host's disk full (a 64 KiB tmpfs over the target directory, on that
# host): pushing a 1 MiB file there fails with a clear error naming the
# host and the cause (no space), the old file stays intact, no temp file is
# left, later ops do not run, and other hosts converge.
LC_NET=${LC_NET:-45}
. "$(dirname "$0")/lib.sh"

r=$T/roles/fill
mkdir -p "$r/files"
head -c $((1024 * 1024)) /dev/urandom > "$r/files/big.bin"
echo after > "$r/files/after.txt"
cat > "$r/role.yaml" <<'YAML'
ops:
  - file: { src: big.bin, dest: /opt/full/big.bin, mode: "0644" }
  - file: { src: after.txt, dest: /opt/after.txt }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, fill]/; s/roles: \[frontend\]/roles: [frontend, fill]/' "$INV"
lab up > "$T/up.txt" 2>&1 || { cat "$T/up.txt"; fail "up"; }
hssh demo_api 'rm -f /opt/after.txt; mkdir -p /opt/full && mount -t tmpfs -o size=64k tmpfs /opt/full &&
	echo "old content" > /opt/full/big.bin && df -h /opt/full | tail -1' > "$T/df.txt" || fail "could not mount the small tmpfs"
old=$(sha_on demo_api /opt/full/big.bin)

run_lab "$T/c.txt" converge demo_api frontend
[ "$RC" = 1 ] || fail "exit status $RC, expected 1: $(cat "$T/c.txt")"
line=$(grep -E "^demo_api +failed " "$T/c.txt" | head -1)
[ -n "$line" ] || fail "no failed line for demo_api: $(cat "$T/c.txt")"
grep -q "/opt/full/big.bin" <<< "$line" || fail "the file is not named: $line"
grep -Eqi "no space|space left|not enough space|disk (is )?full|free" <<< "$line" || bad "the cause (no space) is not said: $line"
grep -Eq "^frontend .*failed=0 +unreachable=0" "$T/c.txt" || fail "frontend did not converge: $(cat "$T/c.txt")"
[ "$(sha_on demo_api /opt/full/big.bin)" = "$old" ] || fail "the old file was changed"
[ "$(hssh demo_api cat /opt/full/big.bin)" = "old content" ] || fail "the old file is not intact"
hssh demo_api test ! -e /opt/after.txt || fail "an op after the failed push ran"
no_temps demo_api /opt/full
ok "disk full: exit 1, old file intact, no temp left: ${line:0:220}"

# Room again: the next converge completes.
hssh demo_api umount /opt/full
hssh demo_api 'echo "old content" > /opt/full/big.bin'
run_lab "$T/c2.txt" converge demo_api
[ "$RC" = 0 ] || fail "converge with room again: $(cat "$T/c2.txt")"
[ "$(sha_on demo_api /opt/full/big.bin)" = "$(sha256sum < "$r/files/big.bin" | cut -c1-64)" ] || fail "not pushed"
hssh demo_api test -e /opt/after.txt || fail "later op not run"
ok "with room again, the next converge completes"
finish
