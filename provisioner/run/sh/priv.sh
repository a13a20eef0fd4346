# priv.sh - the start of the connection's long-lived shell,
#   /bin/sh -s [SSHD_PID STAGE]
# which reads on its stdin the paths of plan.h as variables, this file,
# lib.sh (all three once: lc_script_shell_init) and then the batches.  It
# runs privileged when become says so (start.sh).  SSHD_PID: the
# connection's sshd process, which the watchdog watches (default: this
# shell's parent).  STAGE: the login user's staging directory (become), or
# "".  The shell keeps LC_LOCK_FILE open on fd 9 for the whole connection:
# a lock taken on it lasts until labctl disconnects, or dies.  Nothing is
# printed on stdout.
#
# shellcheck shell=sh
LC_ALL=C
export LC_ALL
LC_SSHD=${1:-$PPID}
LC_USTAGE=${2:-}
export LC_SSHD LC_USTAGE
[ -d "$LC_STATE_DIR" ] || mkdir -p -- "$LC_STATE_DIR" 2>/dev/null
if { true 9>>"$LC_LOCK_FILE"; } 2>/dev/null; then
	exec 9>>"$LC_LOCK_FILE"
fi
