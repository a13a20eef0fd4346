# The edit op where lineinfile and replace are used: a replacement inside
# one ini section (between), a check before the rename (validate), files
# behind symbolic links (follow, or refused for that op alone), and ACLs
# and extended attributes kept.  Checked with ssh, getfacl and getfattr.
LC_NET=${LC_NET:-35}
. "$(dirname "$0")/lib.sh"

r=$T/roles/extra
mkdir -p "$r"
cat > "$r/role.yaml" <<'YAML'
ops:
  - edit:   # ini sections: only [b]'s port, a line in [a] only
      path: /etc/svc.ini
      edits:
        - { subst: "s/^port=.*/port=2/", between: ["^\\[b\\]$", "^\\["] }
        - { line: "user=u", match: "^#?user=", between: ["^\\[a\\]$", "^\\["] }
        - { line: "[c]" }
        - { line: "debug=0", between: ["^\\[c\\]$", "^\\["] }
  - edit:   # checked by visudo before it lands
      path: /etc/sudoers.d/labtest
      create: true
      mode: "0440"
      validate: "visudo -cf %s"
      edits: [ { line: "Defaults:nobody !requiretty" } ]
  - edit:   # a link to a file in another directory: the file is edited
      path: /etc/link.conf
      follow: true
      validate: "grep -q '^level=' %s"
      edits: [ { line: "level=3", match: "^level=" } ]
  - edit:   # a link, not followed: refused, this op only
      path: /etc/nolink.conf
      edits: [ { line: "x=1" } ]
  - edit:   # ACLs and extended attributes survive the write
      path: /etc/acl.conf
      edits: [ "s/^a=.*/a=2/" ]
  - command: { run: "touch /var/tmp/after-link", creates: /var/tmp/after-link }
YAML
lab up demo_api > "$T/up0.txt" 2>&1 || fail "up: $(cat "$T/up0.txt")"
sed -i 's/roles: \[demo_api\]/roles: [demo_api, extra]/' "$INV"
printf '[a]\nport=1\n#user=x\n[b]\nport=1\nuser=y\n' | hssh demo_api 'cat > /etc/svc.ini'
hssh demo_api 'mkdir -p /srv/real && printf "level=1\nname=r\n" > /srv/real/target.conf &&
	ln -sfn /srv/real/target.conf /etc/link.conf &&
	printf "x=0\n" > /srv/real/other.conf && ln -sfn /srv/real/other.conf /etc/nolink.conf &&
	printf "a=1\n" > /etc/acl.conf && setfacl -m u:nobody:r /etc/acl.conf &&
	setfattr -n user.labctl -v kept /etc/acl.conf && rm -f /var/tmp/after-link'
acl_before=$(hssh demo_api getfacl -cp /etc/acl.conf)
other_sum=$(hssh demo_api sha256sum /srv/real/other.conf)

set +e
lab --json converge demo_api > "$T/up.json" 2> "$T/up.err"; rc=$?
set -e
[ "$rc" != 0 ] || fail "a converge with a refused link succeeded"
python3 - "$T/up.json" > "$T/failed" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "op" and e["status"] == "failed":
        print(e["path"], e.get("error", ""))
PY
grep -q "^/etc/nolink.conf /etc/nolink.conf is a symbolic link on demo_api; labctl does not write through a link (set follow: true" "$T/failed" ||
	fail "refused link: $(cat "$T/failed")"
[ "$(wc -l < "$T/failed")" = 1 ] || fail "more than the link failed: $(cat "$T/failed")"
hssh demo_api test -L /etc/nolink.conf || fail "the refused link was replaced"
[ "$(hssh demo_api sha256sum /srv/real/other.conf)" = "$other_sum" ] || fail "the refused link's file changed"
hssh demo_api test -e /var/tmp/after-link || fail "the ops after the refused link did not run"
ok "a symbolic link without follow is refused for that op only; the host's other ops run"

printf '[a]\nport=1\nuser=u\n[b]\nport=2\nuser=y\n[c]\ndebug=0\n' > "$T/want.ini"
hssh demo_api cat /etc/svc.ini | diff -u "$T/want.ini" - || fail "between edits"
ok "between: a replacement in one ini section, lines placed in their section"

hssh demo_api test -L /etc/link.conf || fail "follow replaced the link"
[ "$(hssh demo_api readlink /etc/link.conf)" = /srv/real/target.conf ] || fail "link target changed"
[ "$(hssh demo_api cat /srv/real/target.conf)" = "$(printf 'level=3\nname=r')" ] ||
	fail "followed file: $(hssh demo_api cat /srv/real/target.conf)"
[ -z "$(hssh demo_api 'ls -A /srv/real /etc | grep "^\.labctl\."')" ] || fail "temp files left"
ok "follow: the file a link points to is edited, in its own directory; the link stays"

[ "$(hssh demo_api cat /etc/acl.conf)" = "a=2" ] || fail "acl.conf not edited"
[ "$(hssh demo_api getfacl -cp /etc/acl.conf)" = "$acl_before" ] ||
	fail "ACL lost: $(hssh demo_api getfacl -cp /etc/acl.conf)"
hssh demo_api getfacl -cp /etc/acl.conf | grep -qx "user:nobody:r--" || fail "no ACL entry to keep"
[ "$(hssh demo_api getfattr --absolute-names --only-values -n user.labctl /etc/acl.conf)" = kept ] ||
	fail "extended attribute lost"
ok "an edited file keeps its ACL entries and extended attributes"

[ "$(hssh demo_api cat /etc/sudoers.d/labtest)" = "Defaults:nobody !requiretty" ] || fail "sudoers line"
[ "$(hssh demo_api stat -c %a /etc/sudoers.d/labtest)" = 440 ] || fail "sudoers mode"
hssh demo_api visudo -c > /dev/null || fail "visudo -c on the host"
ok "validate: a valid sudoers edit lands"

# Without the refused op: a clean converge, then nothing to do.
python3 - "$r/role.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("  - edit:   # a link, not followed")
j = s.index("  - edit:   # ACLs")
open(p, "w").write(s[:i] + s[j:])
PY
lab --json converge demo_api > "$T/c2.json" || fail "converge: $(cat "$T/c2.json")"
lab --json converge demo_api > "$T/c3.json" || fail "second converge"
json_summary "$T/c3.json" > "$T/sum"
read -r h changed failed unreach rt ch conn < "$T/sum"
# one batch, or two when the digest cache learns new digests
[ "$changed" = 0 ] && { [ "$rt" = 1 ] || [ "$rt" = 2 ]; } || fail "second converge: changed=$changed round_trips=$rt"
ok "between, follow, validate and kept attributes converge again with 0 changed, at most 2 batches"

# A sudoers line visudo refuses: the op fails with visudo's words, the file
# is as it was, and no temp file is left.
sum=$(hssh demo_api sha256sum /etc/sudoers.d/labtest)
sed -i 's/{ line: "Defaults:nobody !requiretty" }/{ line: "Defaults:nobody !requiretty" }, { line: "nobody ALL=(ALL" }/' "$r/role.yaml"
set +e
lab converge demo_api > "$T/bad.txt" 2>&1; rc=$?
set -e
[ "$rc" != 0 ] || fail "an invalid sudoers edit landed"
grep -q "syntax error" "$T/bad.txt" && grep -q "validate failed: /etc/sudoers.d/labtest not changed" "$T/bad.txt" ||
	fail "validate failure: $(cat "$T/bad.txt")"
[ "$(hssh demo_api sha256sum /etc/sudoers.d/labtest)" = "$sum" ] || fail "the invalid edit changed the file"
[ -z "$(hssh demo_api 'ls -A /etc/sudoers.d | grep "^\.labctl\."')" ] || fail "staged file left"
hssh demo_api visudo -c > /dev/null || fail "visudo -c after the refused edit"
ok "validate: an edit visudo refuses fails with its output and changes nothing"
