# c01: the command line as a user and a script meet it, without hosts: each
# command's flags, exit statuses, --help, --version.
set -euo pipefail

: "${LABCTL:?LABCTL must point to the labctl binary}"
: "${LC_SOURCE_DIR:?LC_SOURCE_DIR must point to the source tree}"
. "$LC_SOURCE_DIR/tests/common.sh"

T=$(mktemp -d /tmp/labctl-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"   # no inventory here: commands that get past their flags stop at it

# run ARGS...: labctl's exit status in $rc, stdout in $T/out, stderr in $T/err
run() {
	rc=0
	"$LABCTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# -- each command takes its own flags ------------------------------------
# a flag the command does not take: status 3, the flag named, the usage line
refused() {
	local cmd=$1 flag=$2 name=$3
	shift 3
	run "$@"
	[ "$rc" = 3 ] || fail "labctl $*: status $rc, expected 3"
	grep -qx "labctl: '$cmd' does not take $name" "$T/err" ||
		fail "labctl $*: the refused flag is not named: $(cat "$T/err")"
	grep -q "^usage: labctl \[OPTIONS\] $cmd" "$T/err" || fail "labctl $*: no usage line"
	[ ! -s "$T/out" ] || fail "labctl $*: wrote to stdout"
	: "$flag"
}
refused down -j "-j/--jobs" down -j 4
refused down --ref "--ref" --ref HEAD down
refused ping --prune "--prune" ping --prune
refused plan --prune "--prune" plan --prune
refused status --changed "--changed" status --changed
refused status --lock-timeout "--lock-timeout" status --lock-timeout 5
refused dash --jobs "-j/--jobs" dash plan --jobs 2
ok "a flag a command does not take is refused with the command's usage line"

# a flag the command takes gets past the flag check, to the inventory
accepted() {
	run "$@"
	! grep -q "does not take" "$T/err" || fail "labctl $*: refused: $(cat "$T/err")"
	grep -q "inventory" "$T/err" || fail "labctl $*: did not reach the inventory: $(cat "$T/err")"
	[ "$rc" = 3 ] || fail "labctl $*: status $rc for a missing inventory, expected 3"
}
accepted up --changed --json -j 2
accepted converge --ref HEAD --lock-timeout 5 --accept-new-hostkeys postgresql
accepted plan -v --changed
accepted status --json -j 3
accepted ping --accept-new-hostkeys
accepted down --json
accepted dash plan --prune
accepted --json dash apply
ok "each command takes the flags its table entry lists, before or after its name"

# -- exit statuses and usage ---------------------------------------------
run frobnicate
[ "$rc" = 3 ] && grep -q "unknown or ambiguous command 'frobnicate'" "$T/err" ||
	fail "unknown command: status $rc"
run d    # down or dash
[ "$rc" = 3 ] || fail "ambiguous prefix: status $rc"
run
[ "$rc" = 3 ] && grep -q "^usage: labctl" "$T/err" || fail "no command: status $rc, usage on stderr"
run -j 0 up
[ "$rc" = 3 ] && grep -q "from 1 to 1024" "$T/err" || fail "-j 0: status $rc"
run --no-such-flag up
[ "$rc" = 3 ] || fail "unknown flag: status $rc"
ok "usage errors exit 3 with a usage line on stderr"

run --help
[ "$rc" = 0 ] && [ ! -s "$T/err" ] || fail "--help: status $rc"
cmds=$(sed -n '/^Commands:/,/^$/p' "$T/out" | awk 'NF && !/^Commands:/ {print $1}')
[ "$(echo "$cmds" | wc -l)" = 7 ] || fail "--help lists $(echo "$cmds" | wc -l) commands, not 7"
grep -q "^Exit status: 0 every host succeeded; 1 " "$T/out" || fail "--help: no exit statuses"
for c in $cmds; do
	run "$c" --help
	[ "$rc" = 0 ] || fail "$c --help: status $rc"
	grep -q "^usage: labctl \[OPTIONS\] $c" "$T/out" || fail "$c --help: no usage line"
	grep -q -- "--inventory FILE" "$T/out" || fail "$c --help: no options"
done
run down --help
! grep -q -- "--jobs" "$T/out" || fail "down --help lists --jobs, which down does not take"
run up --help
grep -q -- "--changed" "$T/out" || fail "up --help does not list --changed"
ok "--help for labctl and for each of its 7 commands"

run --version
[ "$rc" = 0 ] && grep -Eq "^labctl [0-9]+\.[0-9]+\.[0-9]+$" "$T/out" || fail "--version: $(cat "$T/out")"
ok "--version: $(cat "$T/out")"
