# valgrind --leak-check=full on full converges (fresh hosts, a change with
# a restart, a no-op, plan, status) reports no leaks and no memory errors.
LC_NET=${LC_NET:-33}
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || fail "valgrind is not installed (./bootstrap --with-test-deps)"
vg() {
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$LABCTL" -i "$INV" "$@"
}
run_vg() {
	set +e
	vg "$@" > "$T/vg.out" 2> "$T/vg.err"
	local rc=$?
	set -e
	[ "$rc" != 99 ] || { cat "$T/vg.err"; fail "valgrind found errors or leaks in: labctl $*"; }
	[ "$rc" = "${EXPECT:-0}" ] || { cat "$T/vg.out" "$T/vg.err"; fail "labctl $* exited $rc under valgrind"; }
}

run_vg up
ok "a full converge of fresh hosts: no leaks, no errors"
echo "# changed" >> "$T/apps/demo_api/app.py"
run_vg converge demo_api
grep -q "service demo-api (restarted)" "$T/vg.out" || fail "the change did not restart demo_api"
ok "a converge with a change and a restart: no leaks, no errors"
run_vg up
EXPECT=0 run_vg plan
EXPECT=0 run_vg status
ok "a no-op converge, plan and status: no leaks, no errors"
