#!/bin/bash
# lab-agent's postgres check against a throwaway PostgreSQL on 127.0.0.1:
# connections and database sizes per database (tag db:<name>), a password
# login, and an unreachable instance recorded as the check's error without
# stopping the rest.  Skipped (77) without PostgreSQL or root.
. "$(dirname "$0")/lib_agent.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ "$(id -u)" != 0 ] || ! id postgres >/dev/null 2>&1; then
	echo "skip: needs PostgreSQL server binaries, root and a postgres user"
	exit 77
fi

PGD=$T/pg
mkdir -p "$PGD"
chown postgres "$PGD"
chmod 0755 "$T"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$PGBIN/initdb" -D "$PGD/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
	>"$T/initdb.log" 2>&1 || fail "initdb"
as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/postgres.log" -w \
	-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PGD" start \
	>/dev/null || fail "pg_ctl start"
stop_pg() {
	as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1 || true
	cleanup
}
trap stop_pg EXIT
psql_pg() { as_pg psql -h "$PGD" -p "$PG_PORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_pg -c "CREATE ROLE datadog LOGIN PASSWORD 'pg-secret-77'" \
	-c "GRANT pg_monitor TO datadog" -c "CREATE DATABASE labdb" \
	|| fail "create role and database"
psql_pg -d labdb -c "CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g" \
	|| fail "fill labdb"

start_intake
C=$T/conf
mkdir -p "$C/conf.d/postgres.d"
cat > "$C/datadog.yaml" <<YAML
api_key: test-key-123
dd_url: http://127.0.0.1:$PORT
hostname: pg-host
env: testing
tags: [project:datadog-lab]
YAML
cat > "$C/conf.d/postgres.d/conf.yaml" <<YAML
# The agent's postgres integration, as labctl writes it.
init_config:
instances:
  - host: 127.0.0.1
    port: $PG_PORT
    username: datadog
    password: pg-secret-77
    tags: ["role:storage"]
YAML

"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/agent.log" \
	|| fail "--once exited $?"
python3 - "$T/requests.jsonl" "$T/status.json" <<'PY' || fail "postgres metrics"
import json, sys
series = [s for l in open(sys.argv[1]) for r in [json.loads(l)] if r["path"] == "/api/v1/series"
          for s in json.loads(r["body"])["series"]]
pg = [s for s in series if s["metric"].startswith("postgresql.")]
size = {t[3:]: s["points"][0][1] for s in pg if s["metric"] == "postgresql.database_size"
        for t in s["tags"] if t.startswith("db:")}
conns = {t[3:]: s["points"][0][1] for s in pg if s["metric"] == "postgresql.connections"
         for t in s["tags"] if t.startswith("db:")}
assert set(size) == {"postgres", "labdb"}, size
assert size["labdb"] > size["postgres"] > 1000000, size
# The agent's own session is on database postgres.
assert conns["postgres"] >= 1, conns
assert conns["labdb"] >= 0, conns
for s in pg:
    for t in ("role:storage", "env:testing", "project:datadog-lab"):
        assert t in s["tags"], s
    assert s["host"] == "pg-host" and s["type"] == "gauge", s
st = json.load(open(sys.argv[2]))["checks"]["postgres"]
assert st["error"] is None, st
assert st["last_value"]["postgresql.database_size{db:labdb}"] == size["labdb"], st
PY
grep -q "pg-secret-77" "$T/agent.log" "$T/status.json" "$T/requests.jsonl" \
	&& fail "the postgres password leaked"
ok "postgres: connections and database_size per database, tagged db:<name>"

# A wrong password and an unreachable server: the check's error, the
# other instance and the other checks still report.
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >> "$C/conf.d/postgres.d/conf.yaml" <<YAML
  - host: 127.0.0.1
    port: $CLOSED
    username: datadog
  - host: 127.0.0.1
    port: $PG_PORT
    username: datadog
    password: wrong-pw
YAML
rc=0
"$AGENT" -c "$C" --once --status-file "$T/status.json" 2>"$T/agent2.log" || rc=$?
[ "$rc" = 1 ] || fail "--once with a failing instance exited $rc, expected 1"
json_true "$T/status.json" '
"instance 2: postgres 127.0.0.1:" in d["checks"]["postgres"]["error"] and
"instance 3: " in d["checks"]["postgres"]["error"] and
"password authentication failed" in d["checks"]["postgres"]["error"] and
"postgresql.database_size{db:labdb}" in d["checks"]["postgres"]["last_value"] and
d["checks"]["system"]["error"] is None and d["checks"]["system"]["runs"] == 1' \
	|| fail "status with failing instances"
grep -q "WARN check postgres: instance 2: " "$T/agent2.log" || fail "postgres error not logged"
grep -q "wrong-pw" "$T/agent2.log" "$T/status.json" && fail "a password leaked"
ok "postgres errors are recorded per instance, never fatal"
echo "all passed"
