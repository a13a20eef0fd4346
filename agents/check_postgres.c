/* check_postgres.c - the built-in postgres check; the only libpq user.
 * Per database the user may connect to:
 *   postgresql.connections    backends of that database (pg_stat_activity)
 *   postgresql.database_size  bytes (pg_database_size)
 * both tagged db:<name>.  Connecting times out after 5 s, queries too. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define PG_TIMEOUT_S "5"

struct pg_state {
	char *host;
	char *port;
	char *user;
	char *password;        /* may be NULL; never shown */
	char *dbname;
};

static const char pg_query[] =
	"SELECT d.datname, pg_database_size(d.oid), "
	"(SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid) "
	"FROM pg_database d "
	"WHERE d.datallowconn AND NOT d.datistemplate "
	"AND has_database_privilege(d.oid, 'CONNECT') ORDER BY 1";

static void pg_free(void *state)
{
	struct pg_state *st = state;

	if (!st)
		return;
	free(st->host);
	free(st->port);
	free(st->user);
	if (st->password) {
		memset(st->password, 0, strlen(st->password));
		free(st->password);
	}
	free(st->dbname);
	free(st);
}

static int missing(struct lc_error *err, const struct lc_check_conf *conf,
		   const struct lc_check_instance *inst, const char *key)
{
	if (inst->node)
		return lc_node_error(err, LC_EPARSE, inst->node,
				     "postgres instance without '%s'", key);
	return lc_error_set(err, LC_EPARSE, "%s: postgres instance without '%s'",
			    conf->file ? conf->file : "postgres", key);
}

static int pg_init(void **out, const struct lc_check_conf *conf,
		   const struct lc_check_instance *inst, struct lc_error *err)
{
	struct pg_state *st = lc_xcalloc(1, sizeof(*st));
	const struct lc_node *pn = inst->node ? lc_node_get(inst->node, "port") : NULL;
	const char *s;
	long port = 5432;
	int rc;

	*out = NULL;
	if ((rc = lc_instance_str(&s, inst, "host", err)))
		goto fail;
	if (!s || !*s) {
		rc = missing(err, conf, inst, "host");
		goto fail;
	}
	st->host = lc_xstrdup(s);
	if (!lc_node_is_null(pn) && (rc = lc_node_int(&port, pn, 1, 65535, err)))
		goto fail;
	st->port = lc_xasprintf("%ld", port);
	if ((rc = lc_instance_str(&s, inst, "username", err)))
		goto fail;
	if (!s || !*s) {
		rc = missing(err, conf, inst, "username");
		goto fail;
	}
	st->user = lc_xstrdup(s);
	if ((rc = lc_instance_str(&s, inst, "password", err)))
		goto fail;
	st->password = s ? lc_xstrdup(s) : NULL;
	if ((rc = lc_instance_str(&s, inst, "dbname", err)))
		goto fail;
	st->dbname = lc_xstrdup(s && *s ? s : "postgres");
	*out = st;
	return 0;
fail:
	pg_free(st);
	return rc;
}

/* libpq's message on one line: runs of white space become one space. */
static void pg_message(struct lc_buf *out, const char *msg)
{
	const char *p;
	int space = 0;

	for (p = msg ? msg : "unknown error"; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
			space = 1;
			continue;
		}
		if (space && out->len)
			lc_buf_addc(out, ' ');
		space = 0;
		lc_buf_addc(out, *p);
	}
}

static int pg_run(void *state, struct lc_metrics *out,
		  const struct lc_cancel *cancel, struct lc_error *err)
{
	struct pg_state *st = state;
	const char *keys[] = { "host", "port", "user", "password", "dbname",
			       "connect_timeout", "application_name", "options",
			       NULL };
	/* A NULL password lets libpq use its defaults (PGPASSWORD, .pgpass). */
	const char *values[] = { st->host, st->port, st->user, st->password,
				 st->dbname, PG_TIMEOUT_S, "lab-agent",
				 "-c statement_timeout=" PG_TIMEOUT_S "s", NULL };
	struct lc_buf msg = LC_BUF_INIT;
	PGresult *res = NULL;
	PGconn *conn;
	int i, rc = 0;

	conn = PQconnectdbParams(keys, values, 0);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		pg_message(&msg, conn ? PQerrorMessage(conn) : "out of memory");
		rc = lc_error_set(err, LC_ECONNECT, "postgres %s:%s: %s", st->host,
				  st->port, msg.buf);
		goto out;
	}
	res = PQexec(conn, pg_query);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_message(&msg, PQresultErrorMessage(res));
		rc = lc_error_set(err, LC_EREMOTE, "postgres %s:%s: query failed: %s",
				  st->host, st->port, msg.buf);
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		const char *db = PQgetvalue(res, i, 0);
		char *tag = lc_xasprintf("db:%s", db);
		struct lc_metric *m;

		m = lc_metrics_add(out, "postgresql.connections",
				   strtod(PQgetvalue(res, i, 2), NULL), LC_METRIC_GAUGE);
		lc_tags_adds(&m->tags, tag);
		m = lc_metrics_add(out, "postgresql.database_size",
				   strtod(PQgetvalue(res, i, 1), NULL), LC_METRIC_GAUGE);
		lc_tags_adds(&m->tags, tag);
		free(tag);
	}
out:
	PQclear(res);
	PQfinish(conn);
	lc_buf_release(&msg);
	return rc;
}

const struct lc_check_ops lc_check_postgres_ops = {
	.kind = "postgres",
	.init = pg_init,
	.run = pg_run,
	.free = pg_free,
};
