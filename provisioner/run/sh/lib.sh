# lib.sh - the functions every batch labctl sends to a host calls.
#
# POSIX sh (dash, busybox ash, bash).  Embedded into labctl at build time
# and read once by each connection's shell (script.c, lc_script_shell_init),
# after the assignments of LC_STATE_DIR, LC_LOCK_FILE and the other paths
# of plan.h.  Every value
# from an inventory or a role arrives as a positional argument, single-
# quoted by labctl: nothing here expands it twice.  Output lines start with
# a resource index or a letter; script.h lists them.  Runs under LC_ALL=C.
#
# shellcheck shell=sh
# shellcheck disable=SC2154  # LC_* paths are set by the batch prelude
# shellcheck disable=SC2034  # lc_svc_tools is read by the facts batch

# ---- facts -------------------------------------------------------------

# lc_need TOOL...: "M TOOL..." and a failed batch when a tool is missing.
lc_need() {
	lc_m=
	for lc_x; do
		command -v "$lc_x" >/dev/null 2>&1 || lc_m="$lc_m $lc_x"
	done
	[ -z "$lc_m" ] && return 0
	echo "M$lc_m"
	exit "$LC_TOOLS_EXIT"
}

# lc_lock TIMEOUT HOLDER TEMPS: take the host's lock (fd 9, which the
# shell holds open on LC_LOCK_FILE) or end the batch with LC_LOCK_EXIT
# and "L HOLDER" (another labctl has it) or "L! WHY" (no lock possible).
lc_lock() {
	if ! command -v flock >/dev/null 2>&1; then
		echo "L! flock is not installed (util-linux); set lock: false in the inventory to converge without the host lock"
		exit "$LC_LOCK_EXIT"
	fi
	if ! { true >&9; } 2>/dev/null; then
		echo "L! $(id -un) cannot open $LC_LOCK_FILE (log in as root, or set ssh.become: sudo)"
		exit "$LC_LOCK_EXIT"
	fi
	if ! flock -n 9 && ! flock -w "$1" 9; then
		printf 'L %s\n' "$(head -c 300 "$LC_LOCK_FILE.holder" 2>/dev/null)"
		exit "$LC_LOCK_EXIT"
	fi
	printf '%s\n' "$2" > "$LC_LOCK_FILE.holder"
	lc_watchdog "$3"
}

# lc_pgid PID: lc_pg = the process group of PID, or "" (from /proc: no
# ps, and no process started).
lc_pgid() {
	lc_pg=
	read -r lc_x < "/proc/$1/stat" 2>/dev/null || return 1
	lc_x=${lc_x##*) }
	# shellcheck disable=SC2086  # split the fields on purpose
	set -- $lc_x
	lc_pg=$3
}

# lc_watchdog TEMPS: when the connection's sshd process (LC_SSHD) is gone
# (labctl was interrupted or killed, the network dropped), end everything
# the long-lived shell still runs, which also releases the lock, and
# remove the uploads TEMPS lists (this converge's only).
lc_watchdog() {
	lc_pgid $$
	lc_g=$lc_pg
	( trap '' TERM HUP INT
	  tail -s 0.2 --pid="$LC_SSHD" -f /dev/null 2>/dev/null ||
	    while kill -0 "$LC_SSHD" 2>/dev/null; do sleep 0.2; done
	  if [ -n "$lc_g" ]; then kill -s TERM -- "-$lc_g"; else kill -s TERM $$; fi 2>/dev/null
	  if [ -f "$1" ]; then
	    while IFS= read -r lc_t; do rm -f -- "$lc_t"; done < "$1"
	    rm -f -- "$1"
	  fi
	) </dev/null >/dev/null 2>&1 9>&- &
}

# lc_clean GLOB...: remove the temp files an interrupted converge left
# (the lock is held: no other labctl is pushing); one rm, only if any.
lc_clean() {
	for lc_x; do
		if [ -e "$lc_x" ] || [ -L "$lc_x" ]; then
			rm -f -- "$@" 2>/dev/null
			return 0
		fi
	done
}

# lc_backend [systemd|daemon]: which service manager the host runs, and
# the commands its services need (lc_svc_tools, for lc_need).
lc_backend() {
	if [ -n "$1" ]; then
		lc_backend=$1
	elif [ -d /run/systemd/system ]; then
		lc_backend=systemd
	else
		lc_backend=daemon
	fi
	if [ "$lc_backend" = systemd ]; then
		lc_svc_tools="systemctl journalctl"
	else
		lc_svc_tools="start-stop-daemon tail kill"
	fi
	echo "B $lc_backend"
}

# lc_v IDX NAME: "IDX V 1 PID" when service NAME runs, else "IDX V 0";
# "IDX P" when a restart of it is pending.
lc_v() {
	if [ "$lc_backend" = systemd ]; then
		if systemctl is-active --quiet "$2"; then
			echo "$1 V 1 $(systemctl show -p MainPID --value "$2")"
		else
			echo "$1 V 0"
		fi
	elif [ -f "/run/lab/$2.pid" ] && read -r lc_p < "/run/lab/$2.pid" &&
	     kill -0 "$lc_p" 2>/dev/null; then
		echo "$1 V 1 $lc_p"
	else
		echo "$1 V 0"
	fi
	if [ -s "$LC_RESTARTS_FILE" ] && grep -qxF -- "$2" "$LC_RESTARTS_FILE"; then
		echo "$1 P"
	fi
}

# lc_state: the state record, "S LINE" a line; lc_agent: "A BASE64".
lc_state() {
	[ -f "$LC_STATE_FILE" ] || return 0
	while IFS= read -r lc_l || [ -n "$lc_l" ]; do
		printf 'S %s\n' "$lc_l"
	done < "$LC_STATE_FILE"
}

# lc_agent: the agent's state: "D BASE64" of `datadog-agent status --json`
# where the Datadog Agent is installed, else "A BASE64" of lab-agent's status
# file, else nothing.
lc_agent() {
	lc_a=$(command -v datadog-agent 2>/dev/null) || lc_a=/opt/datadog-agent/bin/agent/agent
	if [ -x "$lc_a" ]; then
		printf 'D '
		timeout 30 "$lc_a" status --json 2>/dev/null | base64 -w0
		echo
	elif [ -f "$LC_AGENT_STATUS" ]; then
		printf 'A '
		base64 -w0 < "$LC_AGENT_STATUS"
		echo
	fi
}

# lc_last: "K SECONDS": when the last converge read this host's facts (the
# time of the clock file its facts batch writes), if one did.
lc_last() {
	if [ -f "$LC_CLOCK_FILE" ]; then
		echo "K $(stat -c %Y -- "$LC_CLOCK_FILE")"
	fi
}

# lc_sums: read the digest cache, LC_SUMS_FILE: a line "KEY SIG SHA PATH"
# a file, KEY 16 hex digits (lc_s_KEY="SIG SHA").
lc_sums() {
	[ -f "$LC_SUMS_FILE" ] || return 0
	while read -r lc_k lc_g lc_h lc_l; do
		case ${#lc_k}$lc_k in
		16*[!0-9a-f]*) continue ;;
		16*) ;;
		*) continue ;;
		esac
		eval "lc_s_$lc_k=\"\$lc_g \$lc_h\""
	done < "$LC_SUMS_FILE"
}

# lc_t KEY PATH...: turn stat's "TYPE|MODE|OWNER|GROUP|SIZE|CTIME|SIG|NAME"
# lines (stdin, in argument order, missing paths left out) into
#   "D|MODE|OWNER|GROUP|PATH", "L|PATH" (a symbolic link), "X|PATH" (wrong
#   type), "E|PATH" (unreadable),
#   "F|MODE|OWNER|GROUP|SIZE|SHA|SIG|c|PATH" (c: from the cache; 1: may be
#   remembered; 0: changed too recently) and "N|SECONDS" (the host's
#   clock: the CTIME of LC_CLOCK_FILE, just written, in a converge).
# A file changed at least 2 s before the clock may be remembered: any later
# change gives it a later ctime, whatever the timestamp granularity.
lc_t() {
	lc_w=
	while IFS= read -r lc_l; do
		lc_ty=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_mo=${lc_l%%|*}; lc_l=${lc_l#*|}
		lc_us=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_gr=${lc_l%%|*}; lc_l=${lc_l#*|}
		lc_sz=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_cs=${lc_l%%|*}; lc_l=${lc_l#*|}
		lc_sig=${lc_l%%|*}; lc_n=${lc_l#*|}
		if [ "$lc_n" = "$LC_CLOCK_FILE" ] && [ -z "$lc_w" ]; then
			lc_w=$lc_cs
			echo "N|$lc_w"
			continue
		fi
		while [ $# -ge 2 ] && [ "$2" != "$lc_n" ]; do shift 2; done
		case $lc_ty in
		directory) echo "D|$lc_mo|$lc_us|$lc_gr|$lc_n" ;;
		'regular file'|'regular empty file')
			lc_h=
			[ $# -ge 2 ] && eval "lc_h=\${lc_s_$1-}"
			if [ -n "$lc_h" ] && [ "${lc_h% *}" = "$lc_sig" ]; then
				lc_h=${lc_h#* }
				lc_e=c
			else
				lc_e=0
				[ -n "$lc_w" ] && [ "$lc_cs" -le $((lc_w - 2)) ] && lc_e=1
				lc_h=$(sha256sum < "$lc_n") || { echo "E|$lc_n"; continue; }
				lc_h=${lc_h%% *}
			fi
			echo "F|$lc_mo|$lc_us|$lc_gr|$lc_sz|$lc_h|$lc_sig|$lc_e|$lc_n" ;;
		'symbolic link') echo "L|$lc_n" ;;
		*) echo "X|$lc_n" ;;
		esac
	done
}

# lc_missing IDX PATH DIR [FOLLOW]: "IDX -" (or "IDX - noparent" when DIR,
# its directory, does not exist either) for a PATH that does not exist
# (FOLLOW 1: or is a link to nothing).
lc_missing() {
	if [ -e "$2" ] || { [ "${4:-}" != 1 ] && [ -L "$2" ]; }; then
		return 0
	fi
	if [ -d "$3" ]; then echo "$1 -"; else echo "$1 - noparent"; fi
}

# lc_content IDX PATH [FOLLOW]: "IDX C BASE64" of a regular file (not a
# symlink, unless FOLLOW is 1).
lc_content() {
	if [ -f "$2" ] && { [ "${3:-}" = 1 ] || [ ! -L "$2" ]; }; then
		printf '%s C ' "$1"
		base64 -w0 < "$2"
		echo
	fi
}

# lc_pkgs IDX "NAME...": "IDX K MISSING..." (names checked at load time).
lc_pkgs() {
	lc_q=
	for lc_n in $2; do
		lc_q="$lc_q ${lc_n%%=*}"
	done
	# shellcheck disable=SC2086  # the names are one word each
	lc_i="
$(dpkg-query -W -f='${Package} ${Status} ${Version}\n' $lc_q 2>/dev/null)
"
	lc_m=
	for lc_n in $2; do
		# NAME: any version installed; NAME=VERSION: that one
		case $lc_n in
		*=*) lc_p="${lc_n%%=*} install ok installed ${lc_n#*=}
" ;;
		*) lc_p="$lc_n install ok installed " ;;
		esac
		case $lc_i in
		*"
$lc_p"*) ;;
		*) lc_m="$lc_m $lc_n" ;;
		esac
	done
	echo "$1 K$lc_m"
}

# lc_unless CHDIR UNLESS [K=V...]: the guard command, quietly, in its own
# environment; its status.
lc_unless() {
	lc_d=$1 lc_u=$2
	shift 2
	( if [ -n "$lc_d" ]; then cd "$lc_d" || exit 1; fi
	  exec env "$@" sh -c "$lc_u" ) </dev/null >/dev/null 2>&1
}

# lc_guard IDX CREATES CHDIR UNLESS [K=V...]: "IDX G 1" when the command
# must run (CREATES missing and UNLESS failing; "" for either: no test).
lc_guard() {
	lc_i=$1 lc_c=$2
	shift 2
	if { [ -z "$lc_c" ] || [ ! -e "$lc_c" ]; } &&
	   { [ -z "$2" ] || ! lc_unless "$@"; }; then
		echo "$lc_i G 1"
	else
		echo "$lc_i G 0"
	fi
}

# ---- apply -------------------------------------------------------------

# lc_run IDX: run lc_op_IDX unless an op failed; "IDX R STATUS B64TAIL".
lc_run() {
	if [ "$lc_failed" = 0 ]; then
		lc_out=$("lc_op_$1" 2>&1 </dev/null 9>&-)
		lc_rc=$?
		[ $lc_rc = 0 ] || lc_failed=1
		printf '%s R %s ' "$1" "$lc_rc"
		[ -z "$lc_out" ] || printf '%s' "$lc_out" | tail -c 4000 | base64 -w0
		echo
	fi
}

# lc_pend NAME / lc_unpend NAME: a restart owed, recorded before anything
# changes so that a run that dies half-way leaves it for the next one.
lc_pend() {
	grep -qxF -- "$1" "$LC_RESTARTS_FILE" 2>/dev/null ||
		printf '%s\n' "$1" >> "$LC_RESTARTS_FILE"
}

lc_unpend() {
	[ -f "$LC_RESTARTS_FILE" ] || return 0
	grep -vxF -- "$1" "$LC_RESTARTS_FILE" > "$LC_RESTARTS_FILE.tmp"
	mv -f "$LC_RESTARTS_FILE.tmp" "$LC_RESTARTS_FILE"
}

# lc_owner PATH OWNER GROUP: chown/chgrp what is set ("" = unmanaged).
lc_owner() {
	if [ -n "$2" ] && [ -n "$3" ]; then chown -- "$2:$3" "$1"
	elif [ -n "$2" ]; then chown -- "$2" "$1"
	elif [ -n "$3" ]; then chgrp -- "$3" "$1"
	fi
}

# lc_dir PATH MODE OWNER GROUP EXISTS: mkdir -p -m MODE (the mode of the
# last component, umask aside) or chmod.
lc_dir() {
	if [ "$5" = 1 ]; then
		chmod "$2" -- "$1" || return 1
	else
		# shellcheck disable=SC2174  # -m is for the last component only
		mkdir -p -m "$2" -- "$1" || return 1
	fi
	lc_owner "$1" "$3" "$4"
}

# lc_meta PATH MODE OWNER GROUP: a file whose content is right.
lc_meta() {
	chmod "$2" -- "$1" && lc_owner "$1" "$3" "$4"
}

# lc_inline TMP: write stdin, base64, decoded to TMP (mode 0600, its
# directory made if missing): content sent inside the apply batch.
lc_inline() {
	[ -d "${1%/*}" ] || mkdir -p -- "${1%/*}" || return 1
	( umask 077 && base64 -d > "$1" )
}

# lc_validate COMMAND FILE: run COMMAND with each %s in it replaced by
# FILE, single-quoted; its output (stdout and stderr) and status.
lc_validate() {
	lc_v=$1 lc_c=
	lc_q=$(printf '%s' "$2" | sed "s/'/'\\\\''/g")
	while :; do
		case $lc_v in
		*%s*) lc_c="$lc_c${lc_v%%"%s"*}'$lc_q'"; lc_v=${lc_v#*"%s"} ;;
		*) lc_c="$lc_c$lc_v"; break ;;
		esac
	done
	sh -c "$lc_c" 2>&1 </dev/null
}

# lc_put PATH TMP UP MODE OWNER GROUP EXPECT [VALIDATE [FOLLOW]]: put the
# upload in place, atomically.  UP: where SFTP wrote it, when not TMP
# (become: the login user's staging dir); it is copied next to PATH first,
# so the rename stays on PATH's file system.  EXPECT: "" (anything there),
# "-" (PATH must not exist) or the digest PATH must still have (content
# computed from it).  Unmanaged owner and group: those of the file it
# replaces, and its ACLs and extended attributes are kept.  VALIDATE: a
# command run on TMP before the rename; when it fails nothing changes and
# its output is the error.  FOLLOW 1: a symbolic link at PATH is not
# replaced; the file it points to is (TMP moves next to that file).
lc_put() {
	lc_p=$1 lc_tmp=$2 lc_up=$3
	if [ "${9:-}" = 1 ] && [ -L "$1" ]; then
		lc_p=$(readlink -f -- "$1")
		if [ -z "$lc_p" ]; then
			echo "$1 is a symbolic link to a directory that does not exist"
			rm -f -- "$2" "$3"
			return 1
		fi
		if [ "${lc_p%/*}" != "${2%/*}" ]; then
			# the upload moves next to the target: the rename stays on its
			# file system; the watchdog removes it if we go away
			[ -n "$lc_up" ] || lc_up=$2
			lc_tmp="${lc_p%/*}/.labctl.${lc_p##*/}.${2##*.}"
			[ -z "${lc_tf:-}" ] || printf '%s\n' "$lc_tmp" >> "$lc_tf"
		fi
	fi
	lc_d=${lc_p%/*}
	[ -n "$lc_d" ] || lc_d=/
	if [ -n "$7" ]; then
		if [ "$7" = - ]; then
			[ ! -e "$lc_p" ]
		else
			lc_h=$(sha256sum < "$lc_p") && [ "${lc_h%% *}" = "$7" ]
		fi || {
			echo 'changed on the host since it was read; not overwritten'
			rm -f -- "$2" "$3"
			return 1
		}
	fi
	[ -d "$lc_d" ] || mkdir -p -- "$lc_d" || return 1
	if [ -n "$lc_up" ]; then
		[ -d "${lc_tmp%/*}" ] || mkdir -p -- "${lc_tmp%/*}" || return 1
		( umask 077 && cp -- "$lc_up" "$lc_tmp" ) && rm -f -- "$lc_up" || return 1
	fi
	if [ -e "$lc_p" ] && ! lc_x=$(cp --attributes-only --preserve=mode,xattr -- \
	    "$lc_p" "$lc_tmp" 2>&1); then
		printf '%s\n' "$lc_x"
		echo "cannot keep the ACLs and extended attributes of $lc_p; not changed"
		rm -f -- "$lc_tmp"
		return 1
	fi
	chmod "$4" -- "$lc_tmp" || return 1
	if [ -z "$5$6" ] && [ -e "$lc_p" ]; then
		chown -- "$(stat -c %u:%g -- "$lc_p")" "$lc_tmp" || return 1
	else
		lc_owner "$lc_tmp" "$5" "$6" || return 1
	fi
	if [ -n "${8:-}" ] && ! lc_x=$(lc_validate "$8" "$lc_tmp"); then
		printf '%s\n' "$lc_x" | tail -n 30
		echo "validate failed: $1 not changed"
		rm -f -- "$lc_tmp"
		return 1
	fi
	mv -f -- "$lc_tmp" "$lc_p"
}

# lc_cmd CREATES CHDIR UNLESS RUN [K=V...]: a command op.  The guard is
# checked again: an earlier op of this batch may satisfy it.
lc_cmd() {
	lc_c=$1 lc_d=$2 lc_u=$3 lc_r=$4
	shift 4
	if [ -n "$lc_c" ] && [ -e "$lc_c" ]; then
		echo "$LC_SKIP_MARK"
		return 0
	fi
	if [ -n "$lc_u" ] && lc_unless "$lc_d" "$lc_u" "$@"; then
		echo "$LC_SKIP_MARK"
		return 0
	fi
	if [ -n "$lc_d" ]; then cd "$lc_d" || return 1; fi
	env "$@" sh -c "$lc_r"
}

# lc_apt VALID "NAME[=VERSION]...": install packages with apt-get,
# non-interactive (a pinned version, even an older one); update the package
# lists first when they are missing, older than VALID seconds (rounded up to
# minutes), or older than a source in /etc/apt (a repository just added;
# LC_APT_LISTS, LC_APT_SOURCES: where they are); wait (bounded) for a dpkg
# lock that another apt holds.
lc_apt() {
	DEBIAN_FRONTEND=noninteractive
	export DEBIAN_FRONTEND
	lc_x=$(find "${LC_APT_LISTS:-/var/lib/apt/lists}" -maxdepth 1 -name '*_Packages*' \
		-mmin "-$((($1 + 59) / 60))" 2>/dev/null | head -n 1)
	lc_s=${LC_APT_SOURCES:-/etc/apt}
	if [ -n "$lc_x" ] && [ -n "$(find "$lc_s/sources.list" "$lc_s/sources.list.d" \
		-maxdepth 1 -newer "$lc_x" 2>/dev/null | head -n 1)" ]; then
		lc_x=   # a source the lists do not know yet
	fi
	if [ -z "$lc_x" ]; then
		apt-get -q -o DPkg::Lock::Timeout=120 update || return 1
	fi
	# shellcheck disable=SC2086  # the names are one word each
	apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends \
		--allow-downgrades -- $2
}

# ---- services ----------------------------------------------------------

# lc_svc_up NAME: after a start, the service must still run a moment later
# (systemd: as the same process, not restarted by Restart=on-failure); else
# its last log lines and failure.
lc_svc_up() {
	if [ "$lc_backend" = systemd ]; then
		lc_p=$(systemctl show -p MainPID --value "$1")
		sleep 0.3
		[ "$lc_p" != 0 ] && systemctl is-active --quiet "$1" &&
			[ "$(systemctl show -p MainPID --value "$1")" = "$lc_p" ] && return 0
		echo "service $1 exited at once; journalctl -u $1 -n 20:"
		journalctl -u "$1" -n 20 --no-pager 2>&1
		return 1
	fi
	sleep 0.3
	kill -0 "$(cat "/run/lab/$1.pid" 2>/dev/null)" 2>/dev/null && return 0
	echo "service $1 exited at once; the end of /var/log/lab/$1.log:"
	tail -n 20 "/var/log/lab/$1.log"
	return 1
}

# lc_svc_start NAME USER RELOAD: start (systemd: enable and start, after a
# daemon-reload when RELOAD is 1: its unit changed).
lc_svc_start() {
	lc_n=$1 lc_u=$2
	if [ "$lc_backend" = systemd ]; then
		if [ "$3" = 1 ]; then systemctl daemon-reload || return 1; fi
		systemctl enable --quiet "$lc_n" && systemctl start "$lc_n" || return 1
	else
		mkdir -p /run/lab /var/log/lab || return 1
		set -- --start --quiet --background --make-pidfile \
			--pidfile "/run/lab/$lc_n.pid" --output "/var/log/lab/$lc_n.log"
		if [ -n "$lc_u" ]; then set -- "$@" --chuid "$lc_u"; fi
		start-stop-daemon "$@" --startas /bin/sh -- "$LC_SERVICES_DIR/$lc_n.run" || return 1
	fi
	lc_svc_up "$lc_n"
}

# lc_svc_restart NAME USER SIGNAL RELOAD
lc_svc_restart() {
	if [ "$lc_backend" = systemd ]; then
		if [ "$4" = 1 ]; then systemctl daemon-reload || return 1; fi
		systemctl enable --quiet "$1" && systemctl restart "$1" || return 1
		lc_svc_up "$1"
	else
		lc_svc_stop "$1" "$3" && lc_svc_start "$1" "$2" 0
	fi
}

# lc_svc_stop NAME SIGNAL: stop (systemd: and disable).  The daemon
# backend's services lead a session of their own (start-stop-daemon
# --background): signal the whole process group, never our own.
lc_svc_stop() {
	if [ "$lc_backend" = systemd ]; then
		systemctl disable --quiet --now "$1"
		return
	fi
	if lc_p=$(cat "/run/lab/$1.pid" 2>/dev/null) && kill -0 "$lc_p" 2>/dev/null; then
		lc_pgid $$
		lc_own=$lc_pg
		lc_pgid "$lc_p"
		lc_g=$lc_pg
		[ -n "$lc_g" ] && [ "$lc_g" != "$lc_own" ] || lc_g=
		if [ -n "$lc_g" ]; then kill -s "$2" -- "-$lc_g"; else kill -s "$2" "$lc_p"; fi 2>/dev/null
		lc_i=0
		while kill -0 "$lc_p" 2>/dev/null && [ $lc_i -lt 100 ]; do
			sleep 0.1
			lc_i=$((lc_i + 1))
		done
		if [ -n "$lc_g" ]; then kill -s KILL -- "-$lc_g"; else kill -s KILL "$lc_p"; fi 2>/dev/null
	fi
	rm -f "/run/lab/$1.pid"
}
