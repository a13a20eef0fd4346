# Hosts labctl did not make: systemd as PID 1, login as admin with sudo
# (with and without a password), a German locale, a ~/.bashrc that prints.
# A three-line service runs as written, a service that exits at once fails
# with its journal, a failed upload restarts nothing and is retried.
LC_NET=${LC_NET:-71}
. "$(dirname "$0")/lib.sh"

MADE=(plain pw de banner noflock nosudo)   # before they boot: the cleanup destroys them
host plain 1 --sudo &
host pw 2 --sudo --password 'pw.with%odd=chars+@' &
host de 3 --sudo --locale de_DE.UTF-8 &
host banner 4 --sudo &
host noflock 5 --sudo &
host nosudo 6 &
wait
for n in 1 2 3 4 5 6; do rssh $n true || fail "host 127.0.$LC_NET.$n"; done
rssh 4 "sed -i '1i echo Welcome to this lab server, have a nice day' /home/admin/.bashrc"
rssh 3 'stat -c %F /etc/passwd' | grep -qv '^regular file$' || fail "the locale is not German"
rssh 5 'mv /usr/bin/flock /usr/bin/flock.gone && ! command -v flock' > /dev/null || fail "flock is not gone"
rssh 5 'mv /usr/bin/mkfifo /usr/bin/mkfifo.gone && ! command -v mkfifo' > /dev/null || fail "mkfifo is not gone"
ok "six systemd hosts, admin with sudo (one without sudo rights)"

mkdir -p "$T/roles/web/files" "$T/roles/broken"
echo "hello from labctl" > "$T/roles/web/files/index.html"
cat > "$T/roles/web/role.yaml" <<'YAML'
ops:
  - file: { src: index.html, dest: /srv/web/index.html, mode: "0644" }
  - service:
      name: web
      run: |
        echo "line one" > /run/web.started
        echo "it's \"quoted\" at $WEB_ADDR" >> /run/web.started
        exec /usr/bin/python3 -m http.server --bind "$WEB_ADDR" 8099 --directory /srv/web
      env: { WEB_ADDR: "{{ host.address }}" }
      restart_on: [/srv/web/index.html]
  - edit:   # through sudo: a link followed, validated, its ACL kept
      path: /etc/web-link.conf
      follow: true
      validate: "grep -q '^level=2$' %s"
      edits: [ { line: "level=2", match: "^level=" } ]
  - command:   # how the long-lived shell got its first input: feed.sh's FIFO?
      run: "ls -l /proc/[0-9]*/fd/0 2>/dev/null | grep -c '/[.]labctl-in[.][0-9]* (deleted)$' > /var/tmp/lc-fed || true"
      creates: /var/tmp/lc-fed
YAML
for n in 1 2 3 4 5; do
	rssh $n 'mkdir -p /srv/conf && printf "level=1\n" > /srv/conf/web.conf &&
		setfacl -m u:nobody:r /srv/conf/web.conf && ln -s /srv/conf/web.conf /etc/web-link.conf'
done
cat > "$T/roles/broken/role.yaml" <<'YAML'
ops:
  - service: { name: broken, run: "echo about to fail; exit 3" }
YAML
inventory() {  # PW_LINE
	cat > "$T/inventory.yaml" <<YAML
name: systemd-sudo
provider: ssh
roles_dir: roles
state_dir: .lab
ssh:
  user: admin
  become: sudo
  identity_file: key
  known_hosts: known_hosts
hosts:
  plain: { address: 127.0.$LC_NET.1, roles: [web] }
  pw: { address: 127.0.$LC_NET.2, roles: [web] $1 }
  de: { address: 127.0.$LC_NET.3, roles: [web] }
  banner: { address: 127.0.$LC_NET.4, roles: [web] }
YAML
}
inventory ", become_password: { from_env: LAB_SUDO_PW }"
export LAB_SUDO_PW='pw.with%odd=chars+@'

lab --json converge plain pw de > "$T/c1.json" 2> "$T/c1.err" || { cat "$T/c1.json" "$T/c1.err"; fail "first converge"; }
for n in 1 2 3; do
	[ "$(rssh $n systemctl is-active web)" = active ] || fail "web is not active on .$n"
	[ "$(http_get "http://127.0.$LC_NET.$n:8099/index.html")" = "hello from labctl" ] || fail "web on .$n"
	[ "$(rssh $n cat /run/web.started)" = "line one
it's \"quoted\" at 127.0.$LC_NET.$n" ] || fail "the three-line run on .$n: $(rssh $n cat /run/web.started)"
	[ "$(rssh $n stat -c %U:%a /srv/web/index.html /var/lib/labctl/lock)" = "root:644
root:644" ] || fail "owners on .$n: $(rssh $n stat -c %n:%U:%a /srv/web/index.html /var/lib/labctl/lock)"
	rssh $n "systemctl is-enabled web" | grep -qx enabled || fail "web is not enabled on .$n"
	rssh $n 'test -L /etc/web-link.conf && [ "$(cat /srv/conf/web.conf)" = level=2 ] &&
		getfacl -cp /srv/conf/web.conf | grep -qx user:nobody:r-- &&
		[ -z "$(ls -A /srv/conf | grep "^\.labctl")" ]' || fail "the followed link's file on .$n"
done
grep -q "pw.with%odd" "$T/c1.json" "$T/c1.err" && fail "the sudo password appears in the output"
ok "converged through sudo (with and without a password, German locale): services active and enabled, a link's file edited with its ACL"
# the first batch in the exec command, through sudo; not after a password
[ "$(rssh 1 cat /var/tmp/lc-fed)" -ge 1 ] && [ "$(rssh 3 cat /var/tmp/lc-fed)" -ge 1 ] ||
	fail "the first batch did not come through the FIFO: $(rssh 1 cat /var/tmp/lc-fed) $(rssh 3 cat /var/tmp/lc-fed)"
[ "$(rssh 2 cat /var/tmp/lc-fed)" = 0 ] || fail "with a sudo password the first batch came through the FIFO"
ok "the first batch came inside the exec command, through sudo; on stdin after a sudo password"

lab --json converge plain pw de > "$T/c2.json" || { cat "$T/c2.json"; fail "second converge"; }
json_summary "$T/c2.json" > "$T/c2.sum"
# one batch, or two when the digest cache learns new digests
[ "$(sed 's/ false [12] 1 1$/ false N 1 1/' "$T/c2.sum")" = "de 0 0 false N 1 1
plain 0 0 false N 1 1
pw 0 0 false N 1 1" ] || fail "second converge: $(cat "$T/c2.sum")"
ok "second converge: 0 changed, one connection, one exec channel and at most two batches a host"

# sudo asks for a password that is not configured, or refuses it: a clear
# error, and nothing changes on the host.
echo "second version" > "$T/roles/web/files/index.html"
inventory ""
try "$T/nopw.txt" lab converge pw
rc=$RC
[ "$rc" = 1 ] || fail "no become_password: exit $rc"
grep -q "sudo on the host asks admin for a password: give it with become_password" "$T/nopw.txt" || fail "no become_password: $(cat "$T/nopw.txt")"
inventory ", become_password: { from_env: LAB_SUDO_PW }"
LAB_SUDO_PW=wrong try "$T/badpw.txt" lab converge pw
rc=$RC
[ "$rc" = 1 ] && grep -q "sudo on the host refused admin's become_password" "$T/badpw.txt" || fail "wrong password: $rc $(cat "$T/badpw.txt")"
[ "$(rssh 2 cat /srv/web/index.html)" = "hello from labctl" ] || fail "the host changed although sudo failed"
echo "  nosudo: { address: 127.0.$LC_NET.6, roles: [web] }" >> "$T/inventory.yaml"
try "$T/nosudo.txt" lab converge nosudo
rc=$RC
# sudo -n cannot tell "not in sudoers" from "needs a password" before
# authenticating: the message says both
[ "$rc" = 1 ] && grep -q "sudo on the host asks admin for a password: .* (unless admin may not use sudo there at all)" "$T/nosudo.txt" ||
	fail "not in sudoers: $rc $(cat "$T/nosudo.txt")"
rssh 6 test ! -e /srv/web/index.html || fail "not in sudoers: the host was changed"
ok "sudo without its password, with a wrong one, or not in sudoers: clear error, nothing changed"

# A ~/.bashrc that prints breaks SFTP, used for files too large for the
# apply batch: named, nothing half-written.  Small files go inside the
# batches, which the noise does not disturb.
mkdir -p "$T/roles/big/files"
head -c $((200 * 1024)) /dev/urandom > "$T/roles/big/files/big.bin"
echo 'ops: [ { file: { src: big.bin, dest: /srv/big.bin } } ]' > "$T/roles/big/role.yaml"
sed -i "s/banner: { address: 127.0.$LC_NET.4, roles: \[web\] }/banner: { address: 127.0.$LC_NET.4, roles: [big] }/" "$T/inventory.yaml"
try "$T/banner.txt" lab converge banner
rc=$RC
[ "$rc" = 1 ] || fail "banner: exit $rc"
grep -q "~/.bashrc on the host prints output for non-interactive shells: 'Welcome to this lab server, have a nice day'" "$T/banner.txt" || fail "banner: $(cat "$T/banner.txt")"
rssh 4 "test ! -e /srv/big.bin" || fail "banner host was changed"
grep -q " changed  " "$T/banner.txt" && fail "banner: something reported changed: $(cat "$T/banner.txt")"
sed -i "s/banner: { address: 127.0.$LC_NET.4, roles: \[big\] }/banner: { address: 127.0.$LC_NET.4, roles: [web] }/" "$T/inventory.yaml"
lab converge banner > "$T/banner2.txt" 2>&1 || fail "banner, small files: $(cat "$T/banner2.txt")"
[ "$(rssh 4 cat /srv/web/index.html)" = "$(cat "$T/roles/web/files/index.html")" ] || fail "banner: index.html: $(cat "$T/banner2.txt")"
ok "a chatty ~/.bashrc is named when SFTP is needed (nothing changed); small files do not need it"

# A service that exits at once fails, with its journal.
sed -i "s/de: { address: 127.0.$LC_NET.3, roles: \[web\] }/de: { address: 127.0.$LC_NET.3, roles: [web, broken] }/" "$T/inventory.yaml"
try "$T/broken.txt" lab converge de
rc=$RC
[ "$rc" = 1 ] || fail "broken service: exit $rc"
grep -q "failed   service broken: service broken exited at once; journalctl -u broken -n 20:" "$T/broken.txt" &&
	grep -q "about to fail" "$T/broken.txt" || fail "broken service: $(cat "$T/broken.txt")"
ok "a service that exits at once is a failure showing its journal"

# A failed upload (the destination directory immutable): the file op
# fails, the service is not restarted, exit 1; the next converge does both.
pid() { rssh 1 systemctl show -p MainPID --value web; }
p1=$(pid)
rssh 1 chattr +i /srv/web
try "$T/imm.json" lab --json converge plain
rc=$RC
rssh 1 chattr -i /srv/web
[ "$rc" = 1 ] || fail "immutable: exit $rc"
python3 - "$T/imm.json" <<'PY' || fail "immutable: $(cat "$T/imm.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ops = {(e["op"], e["path"]): e["status"] for e in ev if e.get("event") == "op"}
assert ops[("file", "/srv/web/index.html")] == "failed", ops
assert ops.get(("service", "web")) in (None, "skipped"), ops
PY
[ "$(pid)" = "$p1" ] || fail "web was restarted although its file failed"
[ "$(rssh 1 cat /srv/web/index.html)" = "hello from labctl" ] || fail "immutable: the file changed"
lab converge plain > "$T/retry.txt" 2>&1 || { cat "$T/retry.txt"; fail "retry"; }
grep -q "changed  service web (restarted)" "$T/retry.txt" || fail "retry: $(cat "$T/retry.txt")"
[ "$(http_get "http://127.0.$LC_NET.1:8099/index.html")" = "second version" ] || fail "retry: content"
[ "$(pid)" != "$p1" ] || fail "retry: not restarted"
ok "a failed upload restarts nothing; the next converge changes and restarts"

# A host without flock: a clear error and nothing changed, unless the
# inventory says lock: false.  It has no mkfifo either: feed.sh says so and
# labctl sends the first batch on stdin.
echo "  noflock: { address: 127.0.$LC_NET.5, roles: [web] }" >> "$T/inventory.yaml"
try "$T/noflock.txt" lab converge noflock
rc=$RC
[ "$rc" = 1 ] && grep -q "cannot take the host lock: flock is not installed (util-linux); set lock: false" "$T/noflock.txt" ||
	fail "no flock: $rc $(cat "$T/noflock.txt")"
rssh 5 test ! -e /srv/web/index.html || fail "no flock: the host was changed"
sed -i 's/^  noflock: { address: \(.*\), roles: \[web\] }$/  noflock: { address: \1, roles: [web], lock: false }/' "$T/inventory.yaml"
lab converge noflock > "$T/nolock.txt" 2>&1 || { cat "$T/nolock.txt"; fail "lock: false"; }
[ "$(http_get "http://127.0.$LC_NET.5:8099/index.html")" = "second version" ] || fail "lock: false: content"
# without mkfifo the first batch went on stdin after all
[ "$(rssh 5 cat /var/tmp/lc-fed)" = 0 ] || fail "no mkfifo, yet the first batch came through a FIFO"
ok "no flock on the host: an error naming it, or lock: false; no mkfifo: the first batch on stdin"

# A cloud image's root login: a forced command that tells who to log in
# as, then closes.  Its words are in the error; nothing changes.
printf '%s %s\n' \
	"command=\"echo 'Please login as the user \\\"admin\\\" rather than the user \\\"root\\\".';echo;sleep 2;exit 142\"" \
	"$(cat "$T/key.pub")" | rssh 6 'cat > /root/.ssh/authorized_keys'
sed -i "/^  nosudo:/d" "$T/inventory.yaml"
echo "  forced: { address: 127.0.$LC_NET.6, roles: [web], user: root, become: none }" >> "$T/inventory.yaml"
try "$T/forced.txt" lab converge forced
rc=$RC
[ "$rc" = 1 ] && grep -q "exit status 142.*the login printed: 'Please login as the user \"admin\" rather than the user \"root\".'" "$T/forced.txt" ||
	fail "forced command: $rc $(cat "$T/forced.txt")"
ssh -i "$T/key" -o UserKnownHostsFile="$T/known_hosts" -o BatchMode=yes -o LogLevel=ERROR "admin@127.0.$LC_NET.6" \
	test ! -e /srv/web/index.html || fail "forced command: the host was changed"
ok "a forced command on root's key (cloud images) is shown in the error"
