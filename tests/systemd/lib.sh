# Shared setup for the systemd tests: real Debian hosts with systemd as
# PID 1 (systemd-nspawn over an overlay of /, tests/systemd/labhosts), sshd
# on their own loopback address, reached as the non-root user `admin` with
# sudo, the way labctl meets cloud VMs and Vagrant boxes.  Results are
# checked with OpenSSH's ssh as root, never with labctl itself.
set -euo pipefail

: "${LABCTL:?LABCTL must point to the labctl binary}"
: "${LC_SOURCE_DIR:?LC_SOURCE_DIR must point to the source tree}"
: "${LC_NET:?each test sets LC_NET, the third octet of its addresses}"

LABHOSTS=$LC_SOURCE_DIR/tests/systemd/labhosts
T=$(mktemp -d /tmp/labctl-systemd.XXXXXX)
export LABHOSTS_DIR=$T/hosts
MADE=()

. "$LC_SOURCE_DIR/tests/common.sh"

cleanup() {
	[ ${#MADE[@]} = 0 ] || "$LABHOSTS/destroy-systemd-host" --now "${MADE[@]}" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "the systemd tests need root"
[ "$(ps -o comm= -p 1)" != systemd ] || fail "systemd is PID 1 here: labhosts needs a machine where it is not"
mkdir -p "$LABHOSTS_DIR"
ssh-keygen -q -t ed25519 -N '' -f "$T/key"
: > "$T/known_hosts"

# host NAME N [make-systemd-host options]: boot host NAME at 127.0.LC_NET.N
# with the login user admin (--sudo: with sudo; the options may add a
# password or a locale).
host() {
	local name=$1 n=$2
	shift 2
	"$LABHOSTS/make-systemd-host" "$name" "127.0.$LC_NET.$n" --key "$T/key" \
		--user admin "$@" > "$T/make-$name.log" 2>&1 ||
		{ cat "$T/make-$name.log"; fail "make-systemd-host $name"; }
	cat "$LABHOSTS_DIR/$name/known_hosts" >> "$T/known_hosts"
}

# rssh N COMMAND...: run on host 127.0.LC_NET.N as root, with OpenSSH.
rssh() {
	local n=$1
	shift
	ssh -i "$T/key" -o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=yes \
		-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10 "root@127.0.$LC_NET.$n" "$@"
}

lab() { "$LABCTL" -i "$T/inventory.yaml" "$@"; }

# try OUT COMMAND...: run COMMAND (stdout and stderr to OUT) where it may
# fail; its status in RC.
try() {
	local out=$1
	shift
	set +e
	"$@" > "$out" 2>&1
	RC=$?
	set -e
}
