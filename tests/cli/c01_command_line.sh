# c01: the command line as a user and a script meet it, without hosts: each
# command's flags, exit statuses, --help, --version with the commit, the
# bash completion (driven through bash's own completion variables), the man
# page (groff warnings), and `cmake --install` into a scratch prefix.
set -euo pipefail

: "${LABCTL:?LABCTL must point to the labctl binary}"
: "${LC_SOURCE_DIR:?LC_SOURCE_DIR must point to the source tree}"
: "${LC_BUILD_DIR:?LC_BUILD_DIR must point to the build tree}"
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
refused completion --json "--json" --json completion bash
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
run completion zsh
[ "$rc" = 3 ] && grep -q "^usage: labctl \[OPTIONS\] completion bash" "$T/err" ||
	fail "completion zsh: status $rc"
ok "usage errors exit 3 with a usage line on stderr"

run --help
[ "$rc" = 0 ] && [ ! -s "$T/err" ] || fail "--help: status $rc"
cmds=$(sed -n '/^Commands:/,/^$/p' "$T/out" | awk 'NF && !/^Commands:/ {print $1}')
[ "$(echo "$cmds" | wc -l)" = 8 ] || fail "--help lists $(echo "$cmds" | wc -l) commands, not 8"
grep -q "^Exit status: 0 every host succeeded; 1 " "$T/out" || fail "--help: no exit statuses"
cp "$T/out" "$T/help"
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
ok "--help for labctl and for each of its 8 commands"

run --version
[ "$rc" = 0 ] || fail "--version: status $rc"
if git -C "$LC_SOURCE_DIR" rev-parse HEAD >/dev/null 2>&1; then
	head=$(git -C "$LC_SOURCE_DIR" rev-parse --short=12 HEAD)
	grep -Eq "^labctl [0-9]+\.[0-9]+\.[0-9]+ \(commit $head(-dirty)?\)$" "$T/out" ||
		fail "--version: '$(cat "$T/out")' does not name commit $head"
	ok "--version: $(cat "$T/out")"
else
	grep -Eq "^labctl [0-9]+\.[0-9]+\.[0-9]+ \(unknown commit\)$" "$T/out" ||
		fail "--version: $(cat "$T/out")"
	ok "--version outside a git checkout: $(cat "$T/out")"
fi

# -- bash completion ---------------------------------------------------------
"$LABCTL" completion bash > "$T/completion"
if command -v shellcheck >/dev/null; then
	shellcheck -s bash "$T/completion" || fail "the completion script fails shellcheck"
fi
# complete WORDS...: what bash completion offers for the last word
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_labctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' complete "$T/completion" "$@"
}
[ "$(complete_words labctl d)" = "dash down " ] || fail "labctl d<TAB>: $(complete_words labctl d)"
[ "$(complete_words labctl co)" = "completion converge " ] ||
	fail "labctl co<TAB>: $(complete_words labctl co)"
[ "$(complete_words labctl dash "")" = "apply plan " ] ||
	fail "labctl dash <TAB>: $(complete_words labctl dash "")"
[ "$(complete_words labctl up --ch)" = "--changed " ] ||
	fail "labctl up --ch<TAB>: $(complete_words labctl up --ch)"
[ "$(complete_words labctl down --j)" = "--json " ] ||
	fail "labctl down --j<TAB> (down takes --json, not --jobs): $(complete_words labctl down --j)"
[ "$(complete_words labctl -i inv.yaml --json ping --acc)" = "--accept-new-hostkeys " ] ||
	fail "flags before the command: $(complete_words labctl -i inv.yaml --json ping --acc)"
mkdir -p "$T/inventories" && touch "$T/inventories/lab.yaml"
[ "$(complete_words labctl -i "$T/inventories/la")" = "$T/inventories/lab.yaml " ] ||
	fail "labctl -i FILE<TAB>: $(complete_words labctl -i "$T/inventories/la")"
ok "bash completion: commands, each command's flags, dash's words, files after -i"

# -- the man page ------------------------------------------------------------
man=$LC_SOURCE_DIR/doc/labctl.1
warn=$(groff -ww -z -man "$man" 2>&1) || fail "groff: $warn"
[ -z "$warn" ] || fail "groff warns about labctl.1: $warn"
warn=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null) || fail "man: $warn"
[ -z "$warn" ] || fail "man warns about labctl.1: $warn"
# everything --help names is in the page (groff escapes '-' as '\-')
for c in $cmds; do
	grep -q "^\.B[IR]\? $c\b\|^\.B $c " "$man" || fail "labctl.1 does not describe '$c'"
done
for f in $(grep -o -- '--[a-z-]*' "$T/help" | sort -u); do
	grep -qF -- "$(echo "$f" | sed 's/-/\\-/g')" "$man" || fail "labctl.1 does not describe $f"
done
ok "labctl.1: no groff or man warnings; every command and flag of --help is in it"

# -- cmake --install -----------------------------------------------------------
DESTDIR=$T/root cmake --install "$LC_BUILD_DIR" --prefix /usr/local >"$T/install.log" ||
	fail "cmake --install: $(cat "$T/install.log")"
for f in bin/labctl bin/lab-agent share/man/man1/labctl.1 \
	share/bash-completion/completions/labctl; do
	[ -s "$T/root/usr/local/$f" ] || fail "cmake --install did not install $f"
done
"$T/root/usr/local/bin/labctl" --version | grep -q "^labctl " || fail "the installed labctl does not run"
cmp -s "$T/root/usr/local/share/bash-completion/completions/labctl" "$T/completion" ||
	fail "the installed completion is not what 'labctl completion bash' prints"
MANWIDTH=80 man -l "$T/root/usr/local/share/man/man1/labctl.1" 2>/dev/null | grep -q "EXIT STATUS" ||
	fail "the installed man page does not render"
ok "cmake --install: labctl, lab-agent, labctl(1), the bash completion"
