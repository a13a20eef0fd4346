/* metadata.c - the host metadata payload (metadata.h). */
#include "metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "json.h"
#include "metric.h"

/* /etc/machine-id as a UUID (8-4-4-4-12), or "" when there is none. */
static void machine_uuid(char out[37])
{
	struct lc_buf id = LC_BUF_INIT;
	size_t i, k = 0;

	out[0] = '\0';
	if (lc_file_read(&id, "/etc/machine-id", 4096) < 0 || id.len < 32) {
		lc_buf_release(&id);
		return;
	}
	for (i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[k++] = '-';
		out[k++] = id.buf[i];
	}
	out[k] = '\0';
	lc_buf_release(&id);
}

void lc_host_metadata_json(struct lc_buf *out, const struct lc_agent_conf *conf)
{
	struct lc_node *o = lc_json_object(), *tags, *meta, *tz;
	struct lc_tags host_tags = LC_TAGS_INIT;
	char sock[256] = "", uuid[37];
	struct utsname u;
	size_t i;

	/* the host tags: datadog.yaml tags, then env:ENV (as series get them) */
	for (i = 0; i < conf->tags.nr; i++)
		lc_tags_adds(&host_tags, conf->tags.v[i]);
	if (conf->env && *conf->env) {
		char *e = lc_xasprintf("env:%s", conf->env);

		lc_tags_adds(&host_tags, e);
		free(e);
	}
	gethostname(sock, sizeof(sock) - 1);
	machine_uuid(uuid);
	tzset();

	lc_json_set(o, "internalHostname", lc_json_str(conf->hostname ? conf->hostname : sock));
	tags = lc_json_set(o, "host-tags", lc_json_object());
	lc_json_set(tags, "system", lc_tags_node(&host_tags));
	meta = lc_json_set(o, "meta", lc_json_object());
	lc_json_set(meta, "hostname", lc_json_str(conf->hostname ? conf->hostname : sock));
	lc_json_set(meta, "socket-hostname", lc_json_str(sock));
	tz = lc_json_set(meta, "timezones", lc_json_array());
	lc_json_push(tz, lc_json_str(tzname[0] ? tzname[0] : "UTC"));
	lc_json_set(o, "os", lc_json_str(uname(&u) == 0 ? u.sysname : "Linux"));
	lc_json_set(o, "agentVersion", lc_json_str(LABCTL_VERSION));
	lc_json_set(o, "agentFlavor", lc_json_str("lab_agent"));
	lc_json_set(o, "uuid", lc_json_str(uuid));
	lc_json_write(out, o, -1);
	lc_node_free(o);
	lc_tags_release(&host_tags);
}
