# An edit whose file changes on the host between the fact read and the
# apply (here: a command op earlier in the same role appends to it): the
# edit is not applied blindly over the new content - it fails with "changed
# on the host since it was read; not overwritten", the appended line stays,
# later ops do not run; the next converge applies the edit to the new content.
LC_NET=${LC_NET:-48}
. "$(dirname "$0")/lib.sh"

r=$T/roles/race
mkdir -p "$r"
cat > "$r/role.yaml" <<'YAML'
ops:
  - command: { run: "echo appended-by-command >> /etc/target.conf; touch /var/tmp/appended", creates: /var/tmp/appended }
  - edit:
      path: /etc/target.conf
      edits:
        - "s/^port=[0-9]+$/port=9000/"
        - { line: "managed=yes", match: "^#?managed=" }
  - command: { run: "touch /var/tmp/after-edit", creates: /var/tmp/after-edit }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, race]/' "$INV"
# The file exists before the first converge (edits need it).
lab up demo_api > /dev/null 2>&1 || true
printf 'port=8080\n#managed=no\n' | hssh demo_api 'cat > /etc/target.conf'
hssh demo_api 'rm -f /var/tmp/appended /var/tmp/after-edit'

run_lab "$T/c.txt" converge demo_api
hssh demo_api cat /etc/target.conf > "$T/after1"
echo "# exit $RC; /etc/target.conf after the first converge:"; sed 's/^/#   /' "$T/after1"
grep -qx "appended-by-command" "$T/after1" || bad "the command's line was overwritten by the edit (a stale read applied blindly): $(cat "$T/after1")"
if grep -qx "port=9000" "$T/after1"; then
	# labctl may re-read and apply the edit to the new content: also right,
	# as long as nothing was lost.
	grep -qx "managed=yes" "$T/after1" || bad "half of the edit applied"
	[ "$RC" = 0 ] || bad "exit status $RC although the edit was applied to the new content"
	ok "the edit was applied to the host's new content; nothing lost"
else
	[ "$RC" = 1 ] || bad "exit status $RC, expected 1: $(cat "$T/c.txt")"
	grep -Eq "^demo_api +failed +edit /etc/target.conf: .*changed on the host since it was read; not overwritten" "$T/c.txt" \
		|| bad "no clear message: $(cat "$T/c.txt")"
	printf 'port=8080\n#managed=no\nappended-by-command\n' | cmp -s - "$T/after1" || bad "the file is not as the command left it"
	hssh demo_api test ! -e /var/tmp/after-edit || bad "an op after the failed edit ran"
	no_temps demo_api /etc
	ok "detected: $(grep -E '^demo_api +failed ' "$T/c.txt" | head -1 | cut -c1-160)"
fi

run_lab "$T/c2.txt" converge demo_api
[ "$RC" = 0 ] || fail "the next converge failed: $(cat "$T/c2.txt")"
printf 'port=9000\nmanaged=yes\nappended-by-command\n' | cmp -s - <(hssh demo_api cat /etc/target.conf) \
	|| bad "next converge: $(hssh demo_api cat /etc/target.conf)"
hssh demo_api test -e /var/tmp/after-edit || bad "the later op did not run"
ok "the next converge applies the edit to the new content"
run_lab "$T/c3.json" --json converge demo_api
[ "$RC" = 0 ] && [ -z "$(changed_ops "$T/c3.json")" ] || bad "third converge not a no-op: $RC $(changed_ops "$T/c3.json")"
finish
