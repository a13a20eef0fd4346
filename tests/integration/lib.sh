# Shared setup for integration tests: a private copy of the inventory and
# roles, on its own loopback range so tests never collide with the lab you
# are using, checked with OpenSSH's ssh - never with labctl itself.
set -euo pipefail

: "${LABCTL:?LABCTL must point to the labctl binary}"
: "${LC_SOURCE_DIR:?LC_SOURCE_DIR must point to the source tree}"
: "${LC_NET:?each test sets LC_NET, the third octet of its addresses}"

T=$(mktemp -d /tmp/labctl-test.XXXXXX)
cp -r "$LC_SOURCE_DIR/inventory" "$LC_SOURCE_DIR/roles" "$LC_SOURCE_DIR/apps" "$T/"
ln -s "$(cd "$(dirname "$LABCTL")" && pwd)" "$T/build"   # @build/: the agent binary
INV=$T/inventory/lab.yaml
sed -i "s/address: 127\.0\.10\./address: 127.0.$LC_NET./" "$INV"

declare -A ADDR=([postgresql]=1 [chaos_engine]=2 [demo_api]=3 [twitter_collector]=4 [frontend]=5)
HOSTS=(postgresql chaos_engine demo_api twitter_collector frontend)

lab() { "$LABCTL" -i "$INV" "$@"; }

. "$LC_SOURCE_DIR/tests/common.sh"

addr() { echo "127.0.$LC_NET.${ADDR[$1]}"; }

# hssh HOST COMMAND...: run on a lab host with OpenSSH, strict host keys.
hssh() {
	local h=$1
	shift
	ssh -i "$T/.lab/id_ed25519" -o UserKnownHostsFile="$T/.lab/known_hosts" \
		-o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR \
		-o ConnectTimeout=10 "root@$(addr "$h")" "$@"
}

# changed_ops FILE: "host op path" for every changed op in --json output.
changed_ops() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "op" and e["status"] == "changed":
        print(e["host"], e["op"], e["path"])
' "$1" | sort
}

cleanup() {
	"$LABCTL" -i "$INV" down >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
