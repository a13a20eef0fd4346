/* metadata.h - the host metadata payload: what the real agent POSTs to
 * <intake>/intake/ when it starts and every 30 minutes, so the host map
 * knows the host, its host tags (datadog.yaml tags and env) and its OS. */
#ifndef LC_METADATA_H
#define LC_METADATA_H

#include "buf.h"
#include "config.h"

#define LC_METADATA_INTERVAL_S 1800

/* The JSON body for conf's host:
 * {"internalHostname":..,"host-tags":{"system":[..]},"meta":{"hostname":..,
 *  "socket-hostname":..,"timezones":[..]},"os":..,"agentVersion":..,
 *  "agentFlavor":"lab_agent","uuid":..}
 * Never holds the api key (it goes in the request header only). */
void lc_host_metadata_json(struct lc_buf *out, const struct lc_agent_conf *conf);

#endif
