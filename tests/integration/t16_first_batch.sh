# The connection's first batch (the facts) travels inside the exec command,
# which saves the round trip that stdin costs: the host's long-lived shell
# then reads labctl's FIFO (run/sh/feed.sh), no longer there once open.
# Not when the facts hold a secret (an unless guard's environment): the exec
# command is then the shell alone.  Checked on the host through /proc: a
# command op counts the processes whose stdin is that FIFO.
LC_NET=${LC_NET:-36}
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/roles/probe"
cat > "$T/roles/probe/role.yaml" <<'YAML'
ops:
  - command:
      run: "ls -l /proc/[0-9]*/fd/0 2>/dev/null | grep -c '/[.]labctl-in[.][0-9]* (deleted)$' > /var/tmp/lc-fed || true"
      creates: /var/tmp/lc-fed
  # a secret in the environment of a command guarded by creates: the facts
  # hold only the path
  - command: { run: "true", creates: /etc/hostname, env: { TOKEN: "{{ dd_api_key }}" } }
YAML
sed -i 's/roles: \[demo_api\]/roles: [demo_api, probe]/' "$INV"
export DD_API_KEY=lc-test-key-first-batch-5c1d

lab --json up demo_api > "$T/up.json" 2>&1 || fail "up: $(tail -5 "$T/up.json")"
fed=$(hssh demo_api cat /var/tmp/lc-fed)
[ "$fed" -ge 1 ] || fail "the first batch did not come through the FIFO (count $fed)"
ok "the first batch came inside the exec command ($fed process reading the FIFO)"

# a no-op: the facts batch alone, fed, and its waits on the wire
lab --json converge demo_api > "$T/noop.json" || fail "converge exited $?"
python3 - "$T/noop.json" <<'PY' || fail "no-op cost: $(tail -1 "$T/noop.json")"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
h = s["hosts"]["demo_api"]
assert h["changed"] == 0 and h["round_trips"] == 1, h
# TCP, banner and key exchange (2-3), service request, public key query and
# signature, channel open, exec with the facts inside: at most 9 waits
assert 2 <= h["wire_round_trips"] <= 9, h
PY
ok "a no-op: one batch, at most 9 waits on the wire"

# a guard whose environment holds a secret: not in the exec command
cat >> "$T/roles/probe/role.yaml" <<'YAML'
  - command: { run: "true", unless: "true", env: { TOKEN: "{{ dd_api_key }}" } }
YAML
hssh demo_api rm /var/tmp/lc-fed
lab --json converge demo_api > "$T/secret.json" 2>&1 || fail "converge with a secret guard: $(tail -5 "$T/secret.json")"
! grep -q "$DD_API_KEY" "$T/secret.json" || fail "the key appears in labctl's output"
fed=$(hssh demo_api cat /var/tmp/lc-fed)
[ "$fed" = 0 ] || fail "a first batch with a secret came through the FIFO (count $fed)"
ok "facts with a secret go on stdin, not in the exec command"
