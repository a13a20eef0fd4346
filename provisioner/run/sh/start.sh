# start.sh - with become, what labctl's SSH exec channel runs as the login
# user, in whatever login shell the user has:
#   exec /bin/sh -c START labctl BECOME_USER PW
# It makes the login user's staging directory (uploads go there; the
# privileged side moves them into place) and starts, through sudo, the
# connection's long-lived shell, /bin/sh -s SSHD_PID STAGE, which reads
# priv.sh, lib.sh and then the batches on its stdin.  Without become the
# exec channel runs that shell directly.
# PW "pw": a password line and a line __LC_SYNC__ come first on stdin.
# sudo reads the password only when it asks for one, so a small shell
# reads the lines up to __LC_SYNC__ before the long-lived one starts: they
# are never run.  Nothing is printed on stdout: whatever arrives there
# before the first batch's marker is the login shell's own output (rc
# files, a forced command).
#
# shellcheck shell=sh
LC_ALL=C
export LC_ALL
lc_sshd=$PPID
lc_stage=${HOME:-/tmp}/.labctl-stage
if [ ! -d "$lc_stage" ] && ! mkdir -m 700 -- "$lc_stage"; then
	echo "labctl: cannot create the staging directory $lc_stage" >&2
	exit 1
fi
if [ "$2" = pw ]; then
	# shellcheck disable=SC2016  # expanded by the shell sudo starts
	exec sudo -S -p '' -u "$1" -- /bin/sh -c \
		'IFS= read -r l; [ "$l" = __LC_SYNC__ ] || IFS= read -r l; exec /bin/sh -s "$@"' \
		labctl "$lc_sshd" "$lc_stage"
fi
exec sudo -n -u "$1" -- /bin/sh -s "$lc_sshd" "$lc_stage"
