# feed.sh - what labctl's SSH exec channel runs, in whatever login shell the
# user has, when the first input of the connection's shell (the prelude and
# the first batch) travels inside the command instead of on stdin:
#   exec /bin/sh -c FEED labctl FIRST COMMAND NONCE
# OpenSSH lets a session channel's stdin in only once its command has
# started, so input sent on stdin costs one more round trip than input in
# the command.  COMMAND is what the channel runs otherwise (it ends by
# exec'ing the long-lived sh); it runs here with a stdin that gives FIRST,
# then the channel's stdin.  This process execs COMMAND, so that its parent
# is sshd as without FEED (the watchdog watches sshd) and its end ends the
# channel.  A FIFO carries that stdin: in $TMPDIR (/tmp), else in $HOME.
# Where none can be made (no mkfifo, nowhere to write), it prints
# __LC_NOFEED_NONCE and runs COMMAND on the channel's stdin: labctl then
# sends FIRST there.  Nothing else is printed on stdout.
#
# shellcheck shell=sh
for lc_d in "${TMPDIR:-/tmp}" "${HOME:-/}"; do
	lc_in=$lc_d/.labctl-in.$$
	mkfifo -m 600 -- "$lc_in" 2>/dev/null || continue
	exec 3<&0
	{ printf %s "$1"; exec cat <&3; } >"$lc_in" 2>/dev/null &
	exec 3<&- <"$lc_in"
	rm -f -- "$lc_in"
	eval "$2"
	exit 1
done
echo "__LC_NOFEED_$3"
eval "$2"
exit 1
