/* apm.h - what the agent derives from the traces it receives, as the real
 * agent's trace pipeline does for every top-level span:
 *
 *   trace.<span name>.hits      count   requests
 *   trace.<span name>.errors    count   of them, with error set
 *   trace.<span name>.duration  gauge   their total duration, seconds
 *
 * tagged env, service, resource_name, version and (hits and errors of HTTP
 * spans) http.status_code; plus, for the status file, the last traces and
 * per service and resource the requests per second, error rate, p50 and p95
 * over the last minute, and what the receiver accepted and refused.
 * Thread safe: the receiver adds, the main loop takes. */
#ifndef LC_APM_H
#define LC_APM_H

#include "metric.h"
#include "trace.h"
#include "yamlx.h"

#define LC_APM_LAST_TRACES 10
#define LC_APM_WINDOW_S 60

struct lc_apm;

struct lc_apm *lc_apm_new(void);
void lc_apm_free(struct lc_apm *a);
/* The receiver's own state for the status file ("listening on ...", an
 * error); copied. */
void lc_apm_set_receiver(struct lc_apm *a, const char *state);
/* Take the traces of an accepted payload (t is left empty); spans without
 * an env get default_env.  now: wall-clock seconds. */
void lc_apm_add(struct lc_apm *a, struct lc_traces *t, const char *default_env, double now);
/* A refused payload: why (too_large, bad_payload, bad_request) and the
 * message. */
void lc_apm_refused(struct lc_apm *a, const char *why, const char *msg);
/* Append the metrics of what was added since the last take to out (not
 * decorated); returns how many. */
size_t lc_apm_take(struct lc_apm *a, struct lc_metrics *out);
/* Whether anything changed since the last lc_apm_status. */
int lc_apm_changed(struct lc_apm *a);
/* The "apm" object of the status file (a new tree). */
struct lc_node *lc_apm_status(struct lc_apm *a, double now);

#endif
