# An 8 MiB binary, a directory tree, edits of a file on the host, and
# guarded commands: pushed once, idempotent, checked with ssh.
LC_NET=${LC_NET:-25}
. "$(dirname "$0")/lib.sh"

r=$T/roles/extra
mkdir -p "$r/files/tree/sub"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$r/files/agent.bin"
chmod 0755 "$r/files/agent.bin"
for i in $(seq 1 20); do echo "file $i" > "$r/files/tree/sub/f$i.txt"; done
cat > "$r/role.yaml" <<'YAML'
defaults:
  greeting: "hello $(touch /tmp/pwned) `touch /tmp/pwned2`; it's \"quoted\""
ops:
  - file: { src: agent.bin, dest: /opt/agent/bin/agent }
  - file: { src: tree/, dest: /srv/tree, mode: "0600" }
  - edit:
      path: /etc/app.conf
      edits:
        - "s/^port=[0-9]+$/port=9000/"
        - { line: "greeting={{ greeting }}", match: "^#?greeting=", after: "^\\[main\\]$" }
        - { absent: "^obsolete" }
        - { line: "# managed by labctl", before: BOF }
        - { line: "mode=strict", before: "^keep=" }
  - edit:   # a CRLF file: lines match without their \r and keep it
      path: /etc/crlf.conf
      edits:
        - { line: "key=1" }
        - { absent: "^old=1$" }
        - { line: "new=1", after: "^key=1$" }
  - edit:   # UTF-8: a bracket expression of accented letters
      path: /etc/utf8.conf
      edits: [ "s/[éè]/e/g" ]
  - edit:   # only removes lines: a missing file is fine, and not created
      path: /etc/never.conf
      create: true
      edits: [ { absent: "^debug=" } ]
  - edit:
      path: /etc/created.conf
      create: true
      edits: [ { line: "enabled=yes" } ]
  - command: { run: "echo run >> /var/tmp/ran; touch /var/tmp/done", creates: /var/tmp/done }
  - command:
      run: 'printf "%s\n" "$MSG" >> /var/tmp/msg'
      unless: 'grep -qxF -- "$MSG" /var/tmp/msg'
      env: { MSG: "{{ greeting }}" }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, extra]/' "$INV"

lab up > "$T/up0.txt" 2>&1 && fail "an edit of a missing file without create: true succeeded"
grep -q "demo_api .*failed.* /etc/app.conf: /etc/app.conf does not exist on demo_api (set create: true" "$T/up0.txt" \
	|| fail "missing-file message: $(cat "$T/up0.txt")"
hssh demo_api test ! -e /var/tmp/done || fail "ops after the failed edit ran"
ok "an edit of a missing file fails clearly and stops that host's later ops"

printf '[main]\nport=8080\n#greeting=hi\nobsolete=1\nkeep=1\nobsolete=2' | hssh demo_api 'cat > /etc/app.conf; chmod 0600 /etc/app.conf'
printf 'old=1\r\nkey=1\r\n' | hssh demo_api 'cat > /etc/crlf.conf'
printf 'caf\303\251 cr\303\250me\n' | hssh demo_api 'cat > /etc/utf8.conf'
lab --json up > "$T/up.json" 2>&1 || fail "up: $(cat "$T/up.json")"
[ "$(hssh demo_api sha256sum /opt/agent/bin/agent | cut -c1-64)" = "$(sha256sum < "$r/files/agent.bin" | cut -c1-64)" ] \
	|| fail "8 MiB binary digest differs"
[ "$(hssh demo_api stat -c %a /opt/agent/bin/agent)" = 755 ] || fail "binary mode"
[ "$(hssh demo_api 'ls /srv/tree/sub | wc -l')" = 20 ] || fail "tree files"
[ "$(hssh demo_api stat -c %a /srv/tree/sub/f7.txt)" = 600 ] || fail "tree mode"
[ "$(hssh demo_api cat /srv/tree/sub/f7.txt)" = "file 7" ] || fail "tree content"
hssh demo_api cat /etc/app.conf > "$T/app.conf"
printf '%s\n' '# managed by labctl' '[main]' 'port=9000' "greeting=hello \$(touch /tmp/pwned) \`touch /tmp/pwned2\`; it's \"quoted\"" 'mode=strict' 'keep=1' > "$T/want.conf"
diff -u "$T/want.conf" "$T/app.conf" || fail "edited content"
[ "$(hssh demo_api stat -c %a /etc/app.conf)" = 600 ] || fail "an edit changed the file's mode"
[ "$(hssh demo_api cat /etc/created.conf)" = "enabled=yes" ] || fail "create: true"
hssh demo_api test ! -e /etc/never.conf || fail "an absent-only edit created its file"
[ "$(hssh demo_api "od -An -c /etc/crlf.conf | tr -s ' '")" = " k e y = 1 \r \n n e w = 1 \r \n" ] ||
	fail "CRLF file: $(hssh demo_api od -c /etc/crlf.conf)"
[ "$(hssh demo_api cat /etc/utf8.conf)" = "cafe creme" ] || fail "UTF-8: $(hssh demo_api cat /etc/utf8.conf)"
[ "$(hssh demo_api cat /var/tmp/ran)" = run ] || fail "guarded command"
[ "$(hssh demo_api cat /var/tmp/msg)" = "hello \$(touch /tmp/pwned) \`touch /tmp/pwned2\`; it's \"quoted\"" ] || fail "env value not literal"
hssh demo_api 'test ! -e /tmp/pwned && test ! -e /tmp/pwned2' || fail "a value was expanded by a shell"
hssh demo_api 'find / -xdev -name ".labctl.*" 2>/dev/null' > "$T/tmpfiles"
[ ! -s "$T/tmpfiles" ] || fail "temp files left: $(cat "$T/tmpfiles")"
ok "8 MiB binary, tree, edits on the host's file, create, guarded commands; values reach the host literally"

lab --json converge demo_api > "$T/again.json" || fail "second converge"
json_summary "$T/again.json" > "$T/sum"
read -r h changed failed unreach rt ch conn < "$T/sum"
# one batch, or two when the digest cache learns new digests
[ "$changed" = 0 ] && { [ "$rt" = 1 ] || [ "$rt" = 2 ]; } || fail "second converge: changed=$changed round_trips=$rt"
[ "$(hssh demo_api cat /var/tmp/ran)" = run ] || fail "the guarded command ran twice"
ok "second converge: 0 changed, at most 2 batches"

# One byte of the binary changes on the host: only that file is pushed again.
hssh demo_api 'printf x | dd of=/opt/agent/bin/agent bs=1 seek=100 conv=notrunc 2>/dev/null'
lab --json converge demo_api > "$T/fix.json" || fail "repair converge"
[ "$(changed_ops "$T/fix.json")" = "demo_api file /opt/agent/bin/agent" ] || fail "repair: $(changed_ops "$T/fix.json")"
[ "$(hssh demo_api sha256sum /opt/agent/bin/agent | cut -c1-64)" = "$(sha256sum < "$r/files/agent.bin" | cut -c1-64)" ] \
	|| fail "binary not repaired"
ok "a changed byte in the binary is detected and repaired"

# package: nothing runs when every package is installed; a missing one is
# named by plan (which installs nothing).
echo '  - package: { names: [coreutils, sed] }' >> "$r/role.yaml"
lab --json converge demo_api > "$T/pkg.json" || fail "converge with installed packages"
[ -z "$(changed_ops "$T/pkg.json")" ] || fail "installed packages reported changed: $(changed_ops "$T/pkg.json")"
echo '  - package: { names: [coreutils, labctl-no-such-package-xyz] }' >> "$r/role.yaml"
set +e
lab plan demo_api > "$T/pkg.txt"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "pending  package coreutils labctl-no-such-package-xyz" "$T/pkg.txt" \
	&& grep -qx "    would install: labctl-no-such-package-xyz" "$T/pkg.txt" || fail "package plan: $(cat "$T/pkg.txt")"
ok "package: installed ones cost nothing; a missing one is named by plan"
