# priv.sh - the long-lived shell of a connection, started by start.sh
# (through sudo with become):  PW SSHD_PID STAGE STATE_DIR
# PW "pw": sudo was given a password line on stdin, followed by a line
# __LC_SYNC__; sudo reads the password only when it asks for one, so the
# lines up to __LC_SYNC__ are read here and never run.  SSHD_PID: the
# connection's sshd process, which the watchdog watches.  STAGE: the login
# user's staging directory (become), or "".  The shell keeps STATE_DIR/lock
# open on fd 9 for the whole connection: a lock taken on it lasts until
# labctl disconnects, or dies.
#
# shellcheck shell=sh
LC_ALL=C
export LC_ALL
if [ "$1" = pw ]; then
	IFS= read -r lc_l
	[ "$lc_l" = __LC_SYNC__ ] || IFS= read -r lc_l
	unset lc_l
fi
LC_SSHD=$2
LC_USTAGE=$3
export LC_SSHD LC_USTAGE
[ -d "$4" ] || mkdir -p -- "$4" 2>/dev/null
if { true 9>>"$4/lock"; } 2>/dev/null; then
	exec /bin/sh 9>>"$4/lock"
fi
exec /bin/sh
