# Shared setup for the fault tests: the integration tests' lab (a private
# copy of the inventory and roles on 127.0.$LC_NET.1-5, checked with
# OpenSSH's ssh), plus helpers to break things and to time labctl.
# Fault tests use LC_NET 39-49.
. "$LC_SOURCE_DIR/tests/integration/lib.sh"

# run_lab OUT ARGS...: run labctl with ARGS, stdout+stderr to OUT; sets RC
# and SECS (elapsed wall time, seconds with 2 decimals).  Never fails.
run_lab() {
	local out=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	set +e
	"$LABCTL" -i "$INV" "$@" > "$out" 2>&1
	RC=$?
	set -e
	SECS=$(since "$t0")
}

# lt A B: A < B for decimal numbers.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# since T0 [MINUS]: seconds (2 decimals) from T0 (date +%s.%N) to now, less MINUS.
since() { awk -v t0="$1" -v t1="$(date +%s.%N)" -v m="${2:-0}" 'BEGIN { printf "%.2f", t1 - t0 - m }'; }

# host_pids NAME: every process of local host NAME, as seen from here (its
# root is the host's merged dir) - sshd sessions, shells, services.
host_pids() {
	local merged p
	merged=$(readlink -f "$T/.lab/hosts/$1/merged")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$merged" ] && echo "${p#/proc/}"
	done
	return 0
}

# host_sshd_sessions NAME: the pids of the host's sshd session processes
# (the children of its listening sshd: one per connection), never the
# listener itself.
host_sshd_sessions() {
	local p cmd
	for p in $(host_pids "$1"); do
		cmd=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) || continue
		case $cmd in
		"sshd: root"*) echo "$p" ;;
		esac
	done
}

# no_temps NAME DIR...: a failed check (bad) if any labctl temp file (.labctl.*) is left in
# the DIRs on host NAME, or anything in its stage dir.
no_temps() {
	local h=$1 left
	shift
	left=$(hssh "$h" "find $* /var/lib/labctl/stage -name '.labctl.*' -o -path '/var/lib/labctl/stage/*' 2>/dev/null" || true)
	[ -z "$left" ] || { bad "$h: temp files left behind: $left"; return 1; }
}

# sha_on NAME PATH: the SHA-256 of PATH on host NAME ("-" when missing).
sha_on() { hssh "$1" "sha256sum < '$2' 2>/dev/null | cut -c1-64 || echo -"; }

# cut_when_file NAME GLOB MIN_BYTES TIMEOUT [PID]: wait until a file
# matching GLOB (a path in this machine's view, e.g. in the host's upper
# dir) holds at least MIN_BYTES, then freeze (SIGSTOP) every sshd session
# process of host NAME, so the transfer stalls right there, and
#   without PID: kill them (SIGKILL) - the connection is cut mid-transfer;
#   with PID: send SIGINT to PID (labctl), wait up to 10 s for it to exit,
#             then let the sessions go on (SIGCONT).
# Prints the file's size at that moment; fails when it never got there.
cut_when_file() {
	python3 - "$(readlink -f "$T/.lab/hosts/$1/merged")" "$2" "$3" "$4" "${5:-}" <<'PY'
import glob, os, signal, sys, time
merged, pattern, want, timeout, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]

def sessions():
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{p}/root") != merged:
                continue
            if open(f"/proc/{p}/cmdline", "rb").read().startswith(b"sshd: root"):
                yield int(p)
        except OSError:
            pass

def gone(p):
    try:
        return open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True

end = time.time() + timeout
while time.time() < end:
    for f in glob.glob(pattern):
        try:
            size = os.stat(f).st_size
        except OSError:
            continue
        if size >= want:
            pids = list(sessions())
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            size = os.stat(f).st_size
            if not pid:
                for p in pids:
                    os.kill(p, signal.SIGKILL)
            else:
                os.kill(int(pid), signal.SIGINT)
                t = time.time() + 10
                while time.time() < t and not gone(pid):
                    time.sleep(0.01)
                for p in pids:
                    try:
                        os.kill(p, signal.SIGCONT)
                    except OSError:
                        pass
            print(size)
            sys.exit(0 if pids else 2)
    if pid and gone(pid):
        break
    time.sleep(0.001)
sys.exit(1)
PY
}

# bad MSG: a failed check that does not stop the test, so that the checks
# after it still run and report; finish exits 1 if any check failed.
FAILS=0
bad() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
finish() {
	[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }
	echo "all checks passed"
}
