# start.sh - what labctl's SSH exec channel runs, as the login user, in
# whatever login shell the user has:
#   exec /bin/sh -c START labctl BECOME BECOME_USER PW PRIV STATE_DIR
# BECOME: "" or sudo; PW: "pw" when a password line comes first on stdin;
# PRIV: the text of priv.sh, which becomes the long-lived shell that reads
# the batches, privileged when BECOME says so.  Nothing is printed on
# stdout: whatever arrives there before the first batch's marker is the
# login shell's own output (rc files, a forced command).
#
# shellcheck shell=sh
LC_ALL=C
export LC_ALL
lc_sshd=$PPID
if [ -z "$1" ]; then
	# no become: this shell goes on as priv.sh would (no extra process)
	lc_priv=$4
	set -- "" "$lc_sshd" "" "$5"
	eval "$lc_priv"
fi
# Uploads go to a private directory of the login user; the privileged
# side moves them into place.
lc_stage=${HOME:-/tmp}/.labctl-stage
if [ ! -d "$lc_stage" ] && ! mkdir -m 700 -- "$lc_stage"; then
	echo "labctl: cannot create the staging directory $lc_stage" >&2
	exit 1
fi
if [ "$3" = pw ]; then
	exec sudo -S -p '' -u "$2" -- /bin/sh -c "$4" labctl pw "$lc_sshd" "$lc_stage" "$5"
fi
exec sudo -n -u "$2" -- /bin/sh -c "$4" labctl "" "$lc_sshd" "$lc_stage" "$5"
