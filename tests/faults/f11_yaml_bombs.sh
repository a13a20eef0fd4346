# Hostile YAML - duplicate keys, a billion-laughs anchor bomb, 100,000-deep
# nesting (flow and block), a 50 MiB file, invalid UTF-8, tabs, NUL bytes,
# too many nodes - in the inventory and in a role: each gets exit status 3
# and a clear positioned error, within bounded time and memory (the peak
# RSS and wall time of labctl, measured as /usr/bin/time -v does, with
# getrusage), and no host is contacted.
LC_NET=${LC_NET:-40}
. "$(dirname "$0")/lib.sh"

cp "$INV" "$T/good.yaml"
cp "$T/roles/frontend/role.yaml" "$T/role.good"
# measure OUT ERR CMD...: run CMD; print "RC MAX_RSS_MIB SECONDS".
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
out, err = open(sys.argv[1], "wb"), open(sys.argv[2], "wb")
t0 = time.monotonic()
rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
secs = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(rc if rc >= 0 else 128 - rc, rss, "%.2f" % secs)
PY
}

# bomb WHAT FILE PATTERN [MAX_RSS_MB]: FILE (inventory or role) holds the
# bomb; labctl plan must exit 3 with PATTERN, in < 5 s and < MAX_RSS_MB.
bomb() {
	local what=$1 file=$2 pat=$3 max=${4:-64} rss secs
	read -r RC rss secs < <(measure "$T/out.txt" "$T/err.txt" "$LABCTL" -i "$INV" plan)
	if [ "$RC" != 3 ]; then
		bad "$what: exit $RC, expected 3: $(head -c 300 "$T/err.txt") $(head -c 300 "$T/out.txt")"
	elif ! grep -Eq "$pat" "$T/err.txt"; then
		bad "$what: message: $(head -c 400 "$T/err.txt")"
	elif ! lt "$secs" 5; then
		bad "$what: took ${secs}s"
	elif [ "$rss" -ge "$max" ]; then
		bad "$what: max RSS ${rss} MiB (bound ${max} MiB)"
	else
		ok "$what: exit 3 in ${secs}s, ${rss} MiB: $(head -1 "$T/err.txt" | cut -c1-160)"
	fi
	grep -q "RECAP\|unreachable" "$T/out.txt" && bad "$what: hosts were contacted"
	cp "$T/good.yaml" "$INV"
	cp "$T/role.good" "$T/roles/frontend/role.yaml"
}
at='[a-z_.]+\.yaml:[0-9]+:[0-9]+: '

# Inventory.
python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]; s = open(p).read()
open(p, "w").write(s.replace("  frontend:\n", "  frontend:\n    address: 127.0.0.99\n", 1))
PY
bomb "duplicate key" "$INV" "lab\.yaml:[0-9]+:[0-9]+: duplicate key 'address' \(first defined at line [0-9]+\)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]
lv = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i, n in enumerate("bcdefghi"):
    prev = "abcdefghi"[i]
    lv.append(f"{n}: &{n} [" + ",".join([f"*{prev}"] * 9) + "]")
open(p, "a").write("\nbomb:\n" + "".join("  " + l + "\n" for l in lv))
PY
bomb "billion laughs (anchors)" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(anchor|alias)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]; n = 100000
open(p, "a").write("\ndeep: " + "[" * n + "]" * n + "\n")
PY
bomb "100,000-deep flow sequence" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(deep|nest|depth)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]; n = 100000
open(p, "a").write("\ndeep: " + "{a: " * n + "x" + "}" * n + "\n")
PY
bomb "100,000-deep flow mapping" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(deep|nest|depth)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]; n = 100000
open(p, "a").write("\ndeep:\n  " + "- " * n + "x\n")
PY
bomb "100,000-deep block sequence" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(deep|nest|depth)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]
# 50 MiB: valid YAML (a long list of comments and one big mapping).
with open(p, "a") as f:
    f.write("\nbig:\n")
    line = "  - " + "x" * 1000 + "\n"
    for _ in range(50 * 1024 * 1024 // len(line) + 1):
        f.write(line)
PY
bomb "a 50 MiB inventory" "$INV" "lab\.yaml.*(4 MiB|too large|larger|size|bytes)" 40

printf '\nbad: "caf\xc3"\n' >> "$INV"
bomb "invalid UTF-8 (truncated sequence)" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(UTF-8|utf-8|encoding|invalid)"
printf '\nbad: "\xff\xfe"\n' >> "$INV"
bomb "invalid UTF-8 (0xff 0xfe)" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(UTF-8|utf-8|encoding|invalid)"
printf '\nbad: "\xc0\xaf"\n' >> "$INV"
bomb "invalid UTF-8 (overlong /)" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(UTF-8|utf-8|encoding|invalid)"
printf '\nbad: "\xed\xa0\x80"\n' >> "$INV"
bomb "invalid UTF-8 (surrogate)" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(UTF-8|utf-8|encoding|invalid)"

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]; s = open(p).read()
open(p, "w").write(s.replace("  frontend:\n    address:", "  frontend:\n\taddress:", 1))
PY
bomb "a tab in the indentation" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(tab|cannot start)"

printf '\nbad: "nul\0byte"\n' >> "$INV"
bomb "a NUL byte" "$INV" "lab\.yaml:[0-9]+:[0-9]+: "

python3 - "$INV" <<'PY'
import sys; p = sys.argv[1]
open(p, "a").write("\nmany: [" + ",".join(["1"] * 250000) + "]\n")
PY
bomb "250,000 nodes" "$INV" "lab\.yaml:[0-9]+:[0-9]+: .*(node|many|large)"

# The same in a role.
R=$T/roles/frontend/role.yaml
python3 - "$R" <<'PY'
import sys; p = sys.argv[1]
lv = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i, n in enumerate("bcdefghi"):
    lv.append(f"{n}: &{n} [" + ",".join([f"*{'abcdefghi'[i]}"] * 9) + "]")
s = open(p).read()
open(p, "w").write(s.replace("ops:\n", "defaults:\n" + "".join("  " + l + "\n" for l in lv) + "ops:\n", 1) if "defaults:" not in s else s + "\n# " + "x")
PY
grep -q "&a" "$R" || python3 - "$R" <<'PY'
import sys; p = sys.argv[1]; s = open(p).read()
s = s.replace("defaults:\n", "defaults:\n  bomb_a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n  bomb_b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  bomb_c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", 1)
open(p, "w").write(s)
PY
bomb "billion laughs in a role" "$R" "role\.yaml:[0-9]+:[0-9]+: .*(anchor|alias)"

python3 - "$R" <<'PY'
import sys; p = sys.argv[1]; n = 100000
open(p, "a").write("\nhealth_deep: " + "[" * n + "]" * n + "\n")
PY
bomb "100,000-deep nesting in a role" "$R" "role\.yaml:[0-9]+:[0-9]+: .*(deep|nest|depth)"

python3 - "$R" <<'PY'
import sys; p = sys.argv[1]
with open(p, "a") as f:
    f.write("\n# " + "x" * (50 * 1024 * 1024) + "\n")
PY
bomb "a 50 MiB role.yaml" "$R" "role\.yaml.*(4 MiB|too large|larger|size|bytes)" 40

printf '  - dir: { path: "/opt/\xff" }\n' >> "$R"
bomb "invalid UTF-8 in a role" "$R" "role\.yaml:[0-9]+:[0-9]+: .*(UTF-8|utf-8|encoding|invalid)"

python3 - "$R" <<'PY'
import sys; p = sys.argv[1]; s = open(p).read()
open(p, "w").write(s + "  - dir: { path: /opt/a }\n  - dir: { path: /opt/b, path: /opt/c }\n")
PY
bomb "a duplicate key in a role op" "$R" "role\.yaml:[0-9]+:[0-9]+: duplicate key 'path'"

# A 50 MiB template: a template is rendered in memory; it should be refused
# (or at least rendered) within bounds.
mkdir -p "$T/roles/frontend/templates"
head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > "$T/roles/frontend/templates/huge.conf"
echo '  - template: { src: huge.conf, dest: /etc/huge.conf }' >> "$R"
bomb "a 50 MiB template" "$R" "huge\.conf.*(MiB|too large|larger|size|bytes)" 100
rm -f "$T/roles/frontend/templates/huge.conf"

finish
