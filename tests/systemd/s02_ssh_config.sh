# Hosts reached the way people reach theirs: an ssh_config file with Host
# aliases, per-host IdentityFile and known_hosts, ProxyJump through two
# bastions (the target's name resolves only on the last one), and what
# `vagrant ssh-config` writes.  Every hop's host key is checked.
LC_NET=${LC_NET:-72}
. "$(dirname "$0")/lib.sh"

MADE=(b1 b2 target vm)
host b1 1 --sudo &
host b2 2 --sudo &
host target 3 --sudo &
host vm 4 --sudo &
wait
for n in 1 2 3 4; do rssh $n true || fail "host 127.0.$LC_NET.$n"; done
# b2 is known by that name on b1 only, the target on b2 only
rssh 1 "echo '127.0.$LC_NET.2 b2-internal' >> /etc/hosts"
rssh 2 "echo '127.0.$LC_NET.3 target-internal' >> /etc/hosts"
getent hosts target-internal b2-internal && fail "the internal names resolve here"
key() { awk '{ print $2, $3 }' "$LABHOSTS_DIR/$1/known_hosts"; }
{
	echo "127.0.$LC_NET.1 $(key b1)"
	echo "b2-internal $(key b2)"
	echo "target-internal $(key target)"
} > "$T/lab_known_hosts"
ok "two bastions and a target that only the second one can name"

mkdir -p "$T/roles/site/files"
echo "through two bastions" > "$T/roles/site/files/index.txt"
cat > "$T/roles/site/role.yaml" <<'YAML'
ops:
  - file: { src: index.txt, dest: /srv/site/index.txt, mode: "0644" }
  - command: { run: "hostname > /srv/site/host.txt", creates: /srv/site/host.txt }
YAML
cat > "$T/ssh_config" <<CFG
# a lab behind two bastions
Host bastion
  HostName 127.0.$LC_NET.1
Host inner
  HostName b2-internal
  ProxyJump bastion
Host app
  HostName target-internal
  ProxyJump admin@bastion,inner
Host *
  User admin
  IdentityFile $T/key
  IdentitiesOnly yes
  UserKnownHostsFile $T/lab_known_hosts
  ServerAliveInterval 30
CFG
# `vagrant ssh-config > FILE`, as Vagrant writes it
cat > "$T/vagrant.ssh_config" <<CFG
Host default
  HostName 127.0.$LC_NET.4
  User admin
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile $T/key
  IdentitiesOnly yes
  LogLevel FATAL
  PubkeyAcceptedKeyTypes +ssh-rsa
  HostKeyAlgorithms +ssh-rsa

CFG
cat > "$T/inventory.yaml" <<YAML
name: ssh-config
provider: ssh
roles_dir: roles
state_dir: .lab
ssh: { become: sudo, config_file: ssh_config }
hosts:
  app: { address: app, roles: [site] }
YAML
cat > "$T/vagrant.yaml" <<YAML
name: vagrant
provider: ssh
roles_dir: roles
state_dir: .lab
ssh: { become: sudo, config_file: vagrant.ssh_config }
hosts:
  vm: { address: default, roles: [site] }
YAML

# OpenSSH itself reaches the target through both bastions with this file.
[ "$(ssh -F "$T/ssh_config" -o BatchMode=yes app hostname)" = target ] || fail "OpenSSH through the bastions"

lab --json converge app > "$T/c1.json" 2>&1 || { cat "$T/c1.json"; fail "converge through two bastions"; }
[ "$(rssh 3 cat /srv/site/index.txt)" = "through two bastions" ] || fail "the target's file"
[ "$(rssh 3 cat /srv/site/host.txt)" = target ] || fail "the command did not run on the target"
lab --json converge app > "$T/c2.json" || fail "second converge"
json_summary "$T/c2.json" | grep -Eqx "app 0 0 false [12] 1 1" || fail "second converge: $(json_summary "$T/c2.json")"
ok "ProxyJump through two bastions: converged, then 0 changed in at most two batches"

# Every hop's host key is checked: a wrong key for the middle bastion stops
# the run before the target is touched.
cp "$T/lab_known_hosts" "$T/good_known_hosts"
sed -i "s|^b2-internal .*|b2-internal $(key target)|" "$T/lab_known_hosts"
echo "changed" > "$T/roles/site/files/index.txt"
try "$T/badkey.txt" lab converge app
rc=$RC
cp "$T/good_known_hosts" "$T/lab_known_hosts"
[ "$rc" = 1 ] || fail "a wrong bastion key: exit $rc"
grep -q "jump host inner" "$T/badkey.txt" && grep -qi "host key" "$T/badkey.txt" || fail "wrong bastion key: $(cat "$T/badkey.txt")"
[ "$(rssh 3 cat /srv/site/index.txt)" = "through two bastions" ] || fail "the target changed behind a bad bastion key"
ok "a changed host key on a bastion is refused, naming it"

# what vagrant ssh-config writes works as it is
"$LABCTL" -i "$T/vagrant.yaml" converge vm > "$T/v1.txt" 2>&1 || { cat "$T/v1.txt"; fail "converge with vagrant's ssh-config"; }
[ "$(rssh 4 cat /srv/site/index.txt)" = "changed" ] || fail "vagrant host's file"
"$LABCTL" -i "$T/vagrant.yaml" --json converge vm > "$T/v2.json" || fail "vagrant: second converge"
json_summary "$T/v2.json" | grep -Eqx "vm 0 0 false [12] 1 1" || fail "vagrant: $(json_summary "$T/v2.json")"
ok "vagrant ssh-config output as the config file"

# what labctl cannot follow is an error naming the file and line
printf 'Host app\n  ProxyCommand ssh -W %%h:%%p bastion\n' > "$T/ssh_config.bad"
sed -i 's/config_file: ssh_config }/config_file: ssh_config.bad }/' "$T/inventory.yaml"
set +e
lab converge app > /dev/null 2> "$T/pc.txt"; rc=$?
set -e
[ "$rc" = 3 ] && grep -q "ssh_config.bad:2: ProxyCommand is not supported" "$T/pc.txt" || fail "ProxyCommand: $rc $(cat "$T/pc.txt")"
ok "ProxyCommand: a clear error with file:line"
