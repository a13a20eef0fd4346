# Hostile input reaches the host literally: tags, env values (of commands
# and services), host vars and file names holding quotes, $(), backticks,
# ;, &, |, globs, newlines, spaces and non-ASCII.  Every $(...) and `...`
# touches a marker file in $HOME: none may appear, on the host or here.  Each value
# is compared byte for byte with what the host has, read with OpenSSH.
# Then a role src escaping its role (../, absolute, @apps/.., symlinks to
# a file or a directory outside, a symlink inside a pushed tree) is refused
# with exit status 3, before any host is touched.
LC_NET=${LC_NET:-49}
. "$(dirname "$0")/lib.sh"

# Markers: no '/' in the values (file names cannot hold one), so every
# expansion would touch $HOME/pwned-NET-PID-x.
MB=pwned-$LC_NET-$$
M=$HOME/$MB
r=$T/roles/hostile
mkdir -p "$r/files/tree/sub" "$r/templates"
rm -f "$M"-*
hmarks() { hssh demo_api "cd && ls -d $MB-* 2>/dev/null" || true; }

# The values, written once (YAML double-quoted); python writes the role files
# whose names hold them, and the expected values, from the same YAML.
cat > "$T/values.yaml" <<YAML
nasty: "it's \"q\" \$(cd;touch $MB-a) \`cd;touch $MB-b\`; cd;touch $MB-c & | > < * ? ~ \\\\ \\\\n %s %n \t é ü 日本 -e --"
nasty_nl: "first line\nsecond; \$(cd;touch $MB-d)\n\`cd;touch $MB-e\`\n"
nasty_name: "it's \"q\" \$(cd;touch $MB-f) \`cd;touch $MB-g\`; cd;touch $MB-h & é 日本 -x.txt"
tag1: "tag \"quoted\" 'single' \$(cd;touch $MB-i) \`cd;touch $MB-j\`; é"
tag2: "two\nlines"
YAML
python3 - "$T/values.yaml" "$r" <<'PY'
import sys, json, os
try:
    import yaml
    v = yaml.safe_load(open(sys.argv[1]))
except ImportError:  # no python3-yaml: the values are one-line double-quoted
    v = {}           # YAML scalars, which here read as JSON strings
    for line in open(sys.argv[1], encoding="utf-8"):
        k, _, val = line.rstrip("\n").partition(": ")
        v[k] = json.loads(val.replace("\t", "\\t"))
r = sys.argv[2]
def w(p, s):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w", encoding="utf-8").write(s)
# A source file whose name is hostile, and a tree holding one.
w(f"{r}/files/{v['nasty_name']}", "content of the file with the nasty name\n")
w(f"{r}/files/tree/sub/{v['nasty_name']}", "tree file\n")
w(f"{r}/templates/t.conf", "v={{ nasty }}\nw={{ nasty_nl }}\ntags={{ tags }}\n")
json.dump(v, open(sys.argv[1] + ".json", "w"))
PY
q() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
NAME=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["nasty_name"]))' "$T/values.yaml.json")
cat > "$r/role.yaml" <<YAML
ops:
  - dir: { path: "/opt/hostile/d {{ nasty_name }}", mode: "0755" }
  - file: { src: $NAME, dest: "/opt/hostile/d {{ nasty_name }}/{{ nasty_name }}" }
  - file: { src: tree/, dest: /opt/hostile/tree }
  - template: { src: t.conf, dest: "/opt/hostile/t {{ nasty_name }}" }
  - edit:
      path: /opt/hostile/edited.conf
      create: true
      edits: [ { line: "v={{ nasty }}", match: "^v=" } ]
  - command:
      run: 'printf "%s" "\$V" > /var/tmp/hostile-env.out; printf "%s" "\$W" > /var/tmp/hostile-env2.out; touch "/var/tmp/hostile-done \$N"'
      creates: "/var/tmp/hostile-done {{ nasty_name }}"
      env: { V: "{{ nasty }}", W: "{{ nasty_nl }}", N: "{{ nasty_name }}" }
  - service:
      name: hostile
      run: 'printf "%s" "\$V" > /var/tmp/hostile-svc.out; printf "%s" "\$W" > /var/tmp/hostile-svc2.out; exec sleep 100000'
      env: { V: "{{ nasty }}", W: "{{ nasty_nl }}" }
YAML
# demo_api gets the role; its host vars and tags hold the values.
python3 - "$INV" "$T/values.yaml.json" <<'PY'
import sys, json
inv, v = sys.argv[1], json.load(open(sys.argv[2]))
s = open(inv).read()
j = json.dumps
s = s.replace("    roles: [demo_api]\n    tags: [role:demo:api]\n",
              "    roles: [demo_api, hostile]\n    tags: [role:demo:api, %s, %s]\n" % (j(v["tag1"]), j(v["tag2"])), 1)
s = s.replace("      app_port: \"8081\"\n",
              "      app_port: \"8081\"\n      nasty: %s\n      nasty_nl: %s\n      nasty_name: %s\n"
              % (j(v["nasty"]), j(v["nasty_nl"]), j(v["nasty_name"])), 1)
open(inv, "w").write(s)
PY
grep -q "hostile" "$INV" || fail "could not edit the inventory"

run_lab "$T/up.txt" up
[ "$RC" = 0 ] || bad "up with hostile values exited $RC: $(grep -E '^[a-z_]+ +failed ' "$T/up.txt" | cut -c1-300)"
grep -q "^RECAP" "$T/up.txt" || fail "up did not run: $(cat "$T/up.txt")"

# Read everything back with OpenSSH: each value as base64 of its bytes.
b64() { hssh demo_api "base64 -w0 < $1"; echo; }
{
	echo "env $(b64 /var/tmp/hostile-env.out)"
	echo "env2 $(b64 /var/tmp/hostile-env2.out)"
	for i in $(seq 1 30); do hssh demo_api test -s /var/tmp/hostile-svc2.out && break; sleep 0.2; done
	echo "svc $(b64 /var/tmp/hostile-svc.out)"
	echo "svc2 $(b64 /var/tmp/hostile-svc2.out)"
	echo "edited $(b64 /opt/hostile/edited.conf)"
	echo "datadog $(b64 /etc/datadog-agent/datadog.yaml)"
	echo "ls $(hssh demo_api 'cd /opt/hostile && find . -print0 | base64 -w0'; echo)"
	echo "marks $(hmarks | base64 -w0; echo)"
} > "$T/got"
hssh demo_api 'cd /opt/hostile && find . -maxdepth 1 -type f -name "t *" -exec base64 -w0 {} \;' > "$T/tmpl.b64" || true
python3 - "$T/got" "$T/values.yaml.json" "$T/tmpl.b64" "$M" <<'PY' || bad "a value did not reach the host literally"
import sys, json, base64, glob
got = {k: "" for k in ("env", "env2", "svc", "svc2", "edited", "datadog", "ls", "marks")}
got.update(dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1]) if " " in l))
d = {k: base64.b64decode(v) for k, v in got.items()}
v = json.load(open(sys.argv[2]))
M = sys.argv[4]
bad = []
def check(what, have, want):
    if have != want:
        bad.append(f"{what}: got {have!r}, want {want!r}")
enc = lambda s: s.encode("utf-8")
check("command env V", d["env"], enc(v["nasty"]))
check("command env W (newlines)", d["env2"], enc(v["nasty_nl"]))
check("service env V", d["svc"], enc(v["nasty"]))
check("service env W (newlines)", d["svc2"], enc(v["nasty_nl"]))
check("edited line", d["edited"], enc("v=" + v["nasty"] + "\n"))
tmpl = base64.b64decode(open(sys.argv[3]).read().strip() or "")
want_t = "v=%s\nw=%s\n" % (v["nasty"], v["nasty_nl"])
if not tmpl.startswith(enc(want_t)):
    bad.append(f"template: got {tmpl!r}, want it to start with {want_t!r}")
tags = None
for line in d["datadog"].decode("utf-8").splitlines():
    if line.startswith("tags: "):
        try:
            import yaml
            tags = yaml.safe_load(line)["tags"]
        except ImportError:  # a flow list of double-quoted strings reads as JSON
            tags = json.loads(line[6:])
if not isinstance(tags, list) or tags[-2:] != [v["tag1"], v["tag2"]]:
    bad.append(f"tags in datadog.yaml: {tags!r}")
names = set(d["ls"].split(b"\0"))
for want in (b"./d " + enc(v["nasty_name"]) + b"/" + enc(v["nasty_name"]),
             b"./t " + enc(v["nasty_name"]),
             b"./tree/sub/" + enc(v["nasty_name"])):
    if want not in names:
        bad.append(f"file {want!r} missing; have {sorted(names)!r}")
if d["marks"]:
    bad.append(f"MARKER FILES ON THE HOST (shell expansion!): {d['marks']!r}")
local = glob.glob(M + "-*")
if local:
    bad.append(f"MARKER FILES ON THIS MACHINE (shell expansion!): {local!r}")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
[ "$FAILS" = 0 ] && ok "tags, command and service env values, host vars in templates, edits, paths and file names reach the host byte for byte; no marker file"

# Idempotent with hostile values too (but for a service that failed).
run_lab "$T/again.json" --json converge demo_api
[ -z "$(changed_ops "$T/again.json" | grep -v ' service hostile$')" ] || bad "second converge with hostile values: $RC $(changed_ops "$T/again.json")"
[ -z "$(ls -d "$M"-* 2>/dev/null)" ] || fail "marker files here"
[ -z "$(hmarks)" ] || fail "marker files on the host"
ok "second converge: no change, no marker"

# plan and status with hostile values: no expansion either.
run_lab "$T/plan.txt" plan
run_lab "$T/status.txt" status
[ -z "$(hmarks)" ] && [ -z "$(ls -d "$M"-* 2>/dev/null)" ] || fail "plan/status expanded a value"
ok "plan and status: no marker"

# A path holding a newline: labctl either handles it or refuses it clearly.
hssh demo_api 'rm -rf /opt/hostile/nl'
cp "$r/role.yaml" "$T/role.good"
printf 'ops:\n  - file: { src: tree/sub, dest: "/opt/hostile/nl/new\\nline" }\n' > "$r/role.yaml"
run_lab "$T/nl.txt" converge demo_api
case $RC in
0)	if hssh demo_api 'test -d "/opt/hostile/nl/new
line" && [ "$(find /opt/hostile/nl -mindepth 1 -maxdepth 1 -printf x)" = x ]'; then
		ok "a dest holding a newline is created as such"
	else
		bad "a dest with a newline: exit 0 but not there: $(hssh demo_api 'ls -b /opt/hostile/nl')"
	fi
	if grep -q "^line" "$T/nl.txt"; then echo "# note: the path is printed with a raw newline, breaking the one-line-per-op output"; fi ;;
3)	ok "a dest holding a newline is refused: $(head -1 "$T/nl.txt")" ;;
*)	bad "a dest holding a newline: exit $RC: $(cat "$T/nl.txt")" ;;
esac
[ -z "$(hmarks)" ] || fail "marker files on the host"
cp "$T/role.good" "$r/role.yaml"

# src escaping the role: refused, exit 3, nothing touched.
hssh demo_api 'rm -f /opt/hostile/edited.conf'
ln -s /etc/passwd "$r/files/passwd-link"
ln -s /etc "$r/files/etc-link"
mkdir -p "$T/outside"; echo secret > "$T/outside/secret.txt"
ln -s "$T/outside/secret.txt" "$r/files/rel-link"
escape() { # WHAT SRC-LINE PATTERN
	cp "$T/role.good" "$r/role.yaml"
	echo "$2" >> "$r/role.yaml"
	run_lab "$T/esc.txt" converge demo_api
	if [ "$RC" != 3 ] || ! grep -Eq "$3" "$T/esc.txt"; then
		bad "$1: exit $RC (expected 3), message: $(head -3 "$T/esc.txt")"
	else
		ok "$1 refused: $(grep -E "$3" "$T/esc.txt" | head -1 | cut -c1-200)"
	fi
	hssh demo_api test ! -e /opt/hostile/edited.conf || { bad "$1: the host was touched"; hssh demo_api rm -f /opt/hostile/edited.conf; }
	hssh demo_api test ! -e /opt/x || { bad "$1: the escaping file was pushed"; hssh demo_api rm -rf /opt/x; }
}
escape "../ in src" '  - file: { src: ../../demo_api/role.yaml, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: .*must be a relative path inside"
escape "an absolute src" '  - file: { src: /etc/passwd, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: .*must be a relative path inside"
escape "a template src ../" '  - template: { src: ../files/tree/sub/../../../../../../etc/passwd, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: "
escape "@apps/../" '  - file: { src: "@apps/../inventory/lab.yaml", dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: "
escape "a symlink to a file outside" '  - file: { src: passwd-link, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: .*(outside|inside|symlink|link)"
escape "a symlink to a directory outside" '  - file: { src: etc-link/passwd, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: .*(outside|inside|symlink|link)"
escape "a relative symlink outside" '  - file: { src: rel-link, dest: /opt/x }' "role\.yaml:[0-9]+:[0-9]+: .*(outside|inside|symlink|link)"
# A tree whose files include a symlink pointing out of the role: the tree
# must not carry /etc/passwd (or any file outside) to the hosts.
mkdir -p "$r/files/leaky"
echo fine > "$r/files/leaky/fine.txt"
ln -s /etc/passwd "$r/files/leaky/passwd"
ln -s "$T/outside" "$r/files/leaky/outdir"
escape "a symlink out of the role inside a pushed tree" '  - file: { src: leaky/, dest: /opt/x }' "(outside|inside|symlink|link)"
rm -rf "$r/files/leaky"
cp "$T/role.good" "$r/role.yaml"
finish
