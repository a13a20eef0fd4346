# Reproducible deploys: commit-pinned converges (--ref, tags), the version
# each host runs (and -dirty), status of what is behind, --changed; and
# artifacts by URL with a pinned SHA-256 through a local cache.
LC_NET=${LC_NET:-32}
. "$(dirname "$0")/lib.sh"

cd "$T"
printf '.lab/\nbuild\n' > .gitignore
git init -q . && git config user.email t@lab.invalid && git config user.name test
git add -A && git commit -qm A && A=$(git rev-parse HEAD)
git tag -a v-a -m "annotated tag at A" "$A"
app=apps/demo_api/app.py
appA=$(sha256sum < $app | cut -c1-64)

lab up > up.txt 2>&1 || { cat up.txt; fail "up"; }
lab --json status demo_api > st0.json || fail "status"
python3 - st0.json "$A" <<'PY' || fail "status after up: $(cat st0.json)"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])["deployed"]
assert d["commit"] == sys.argv[2] and d["version"] == sys.argv[2][:7] and not d["dirty"], d
assert d["roles_behind"] == [], d
PY
hssh demo_api cat /etc/labctl/services/demo-api.env | grep -qx "DD_VERSION='${A:0:7}'" || fail "DD_VERSION does not follow the commit"
ok "up at commit A: every host records A, DD_VERSION is ${A:0:7}"

echo "# change B" >> $app
git commit -qam B && B=$(git rev-parse HEAD)
lab status demo_api > st1.txt || true
grep -q "deployed: ${A:0:7} (repo HEAD ${B:0:7}); roles whose inputs differ from what is deployed: demo_api" st1.txt \
	|| fail "status does not show demo_api behind: $(cat st1.txt)"
ok "after commit B, status shows demo_api behind and which role differs"

lab --ref "$A" converge demo_api > refA.txt 2>&1 || { cat refA.txt; fail "converge --ref A"; }
grep -q "deploying commit ${A:0:7} ($A); uncommitted changes are ignored" refA.txt || fail "no source note: $(head -3 refA.txt)"
[ "$(hssh demo_api sha256sum /opt/lab/demo_api/app.py | cut -c1-64)" = "$appA" ] || fail "--ref A did not restore A's content"
grep -q "# change B" $app || fail "the work tree was touched"
ok "converge --ref A restores A's content exactly while the work tree holds B"

lab --ref v-a converge demo_api > tag.txt 2>&1 || { cat tag.txt; fail "--ref with an annotated tag"; }
grep -q "0 changed" tag.txt || fail "the annotated tag is not commit A: $(tail -3 tag.txt)"
set +e
lab --ref no-such-ref converge demo_api > bad.txt 2>&1; rc=$?
set -e
[ "$rc" = 3 ] && grep -q "\-\-ref no-such-ref" bad.txt || fail "a bad ref: $rc $(cat bad.txt)"
ok "an annotated tag works as a ref; an unknown ref is a usage error"

echo "# not committed" >> $app
lab converge demo_api > dirty.txt 2>&1 || fail "converge dirty"
hssh demo_api cat /var/lib/labctl/state.json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == sys.argv[1] + "-dirty" and d["dirty"] is True, d' "${B:0:7}" || fail "state does not say dirty"
hssh demo_api cat /etc/labctl/services/demo-api.env | grep -qx "DD_VERSION='${B:0:7}-dirty'" || fail "DD_VERSION not -dirty"
git checkout -q -- $app
ok "a dirty work tree shows -dirty in the state and in DD_VERSION"

lab up > upB.txt 2>&1 || fail "up at B"
echo "# change C" >> $app
git commit -qam C
lab --json --changed up > changed.json 2>&1 || fail "--changed"
python3 - changed.json <<'PY' || fail "--changed: $(cat changed.json)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
skipped = sorted(e["host"] for e in ev if e.get("event") == "host" and e.get("status") == "skipped")
assert skipped == ["chaos_engine", "frontend", "postgresql", "twitter_collector"], skipped
changed = {e["host"] for e in ev if e.get("event") == "op" and e["status"] == "changed"}
assert changed == {"demo_api"}, changed
PY
ok "--changed converges only demo_api"

# Artifacts: a local HTTP server on a loopback address, and file://.
mkdir -p srv && head -c 300000 /dev/urandom > srv/tool.bin
good=$(sha256sum < srv/tool.bin | cut -c1-64)
python3 -m http.server --bind 127.0.0.1 0 --directory srv > http.log 2>&1 &
httpd=$!
trap 'kill $httpd 2>/dev/null || true; cleanup' EXIT
for i in $(seq 1 50); do port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' http.log | head -1); [ -n "$port" ] && break; sleep 0.1; done
[ -n "$port" ] || fail "http server did not start"
cp roles/frontend/role.yaml frontend.role.good
echo "  - file: { src: \"http://127.0.0.1:$port/tool.bin\", sha256: $good, dest: /opt/tools/tool.bin, mode: \"0755\" }" >> roles/frontend/role.yaml
echo "  - file: { src: \"file://$T/srv/tool.bin\", sha256: $good, dest: /opt/tools/tool2.bin }" >> roles/frontend/role.yaml
lab converge frontend > art.txt 2>&1 || { cat art.txt; fail "artifact converge"; }
[ "$(hssh frontend sha256sum /opt/tools/tool.bin | cut -c1-64)" = "$good" ] || fail "http artifact"
[ "$(hssh frontend sha256sum /opt/tools/tool2.bin | cut -c1-64)" = "$good" ] || fail "file artifact"
[ -f ".lab/cache/$good" ] || fail "not cached"
ok "artifacts by http:// and file:// with a pinned SHA-256 reach the host"

kill $httpd; wait $httpd 2>/dev/null || true
hssh frontend rm /opt/tools/tool.bin
lab converge frontend > cached.txt 2>&1 || { cat cached.txt; fail "a second run needs the server: the cache was not used"; }
[ "$(hssh frontend sha256sum /opt/tools/tool.bin | cut -c1-64)" = "$good" ] || fail "from the cache"
ok "a second run uses the cache (the server is gone)"

wrong=0000000000000000000000000000000000000000000000000000000000000000
cp frontend.role.good roles/frontend/role.yaml
echo "  - file: { src: \"file://$T/srv/tool.bin\", sha256: $wrong, dest: /opt/tools/wrong.bin }" >> roles/frontend/role.yaml
set +e
lab converge frontend > wrong.txt 2>&1; rc=$?
set -e
[ "$rc" = 3 ] || fail "a wrong digest: exit $rc"
grep -q "SHA-256 mismatch: expected $wrong, got $good" wrong.txt || fail "message: $(cat wrong.txt)"
hssh frontend test ! -e /opt/tools/wrong.bin || fail "something was pushed"
sed -i "s|file://$T/srv/tool.bin\", sha256: $wrong|ftp://127.0.0.1/x\", sha256: $good|" roles/frontend/role.yaml
set +e
lab converge frontend > ftp.txt 2>&1; rc=$?
set -e
[ "$rc" = 3 ] && grep -q "must be http://, https:// or file://" ftp.txt || fail "ftp: $rc $(cat ftp.txt)"
ok "a wrong digest is refused naming both, nothing pushed; other protocols are refused"
