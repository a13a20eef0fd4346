/* check_system.c - the built-in system check: load, CPU, memory, disk.
 *   system.load.1/5/15           /proc/loadavg
 *   system.cpu.user/system/idle/iowait/stolen   percent, /proc/stat deltas
 *   system.mem.total/used/free/usable           MB, /proc/meminfo
 *   system.disk.total/used/free  KB, statvfs("/") */
#include "check.h"
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define PROC_FILE_MAX (1u << 20)

enum { CPU_USER, CPU_NICE, CPU_SYSTEM, CPU_IDLE, CPU_IOWAIT, CPU_IRQ,
       CPU_SOFTIRQ, CPU_STEAL, CPU_N };

struct system_state {
	unsigned long long cpu[CPU_N];
	int have_cpu;
	const char *root;      /* "/" */
};

static int read_file(struct lc_buf *out, const char *path, struct lc_error *err)
{
	int e = lc_file_read(out, path, PROC_FILE_MAX);

	if (e == -EFBIG)
		return lc_error_set(err, LC_EIO, "%s is larger than expected", path);
	if (e)
		return lc_error_set(err, LC_EIO, "cannot read %s: %s", path, strerror(-e));
	return 0;
}

static int load_avg(struct lc_metrics *out, struct lc_buf *b, struct lc_error *err)
{
	static const char *const names[] = { "system.load.1", "system.load.5", "system.load.15" };
	double v[3];
	char *p, *end;
	int i, rc;

	if ((rc = read_file(b, "/proc/loadavg", err)))
		return rc;
	p = b->buf;
	for (i = 0; i < 3; i++) {
		v[i] = strtod(p, &end);
		if (end == p)
			return lc_error_set(err, LC_EPARSE, "/proc/loadavg: unexpected content");
		p = end;
	}
	for (i = 0; i < 3; i++)
		lc_metrics_add(out, names[i], v[i], LC_METRIC_GAUGE);
	return 0;
}

static int read_cpu(unsigned long long cpu[CPU_N], struct lc_buf *b,
		    struct lc_error *err)
{
	char *p, *end;
	int i, rc;

	if ((rc = read_file(b, "/proc/stat", err)))
		return rc;
	if (strncmp(b->buf, "cpu ", 4))
		return lc_error_set(err, LC_EPARSE, "/proc/stat: no 'cpu' line first");
	p = b->buf + 4;
	for (i = 0; i < CPU_N; i++) {
		errno = 0;
		cpu[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return lc_error_set(err, LC_EPARSE, "/proc/stat: short 'cpu' line");
		p = end;
	}
	return 0;
}

static int cpu_percent(struct lc_metrics *out, struct system_state *st,
		       struct lc_buf *b, struct lc_error *err)
{
	unsigned long long now[CPU_N], d[CPU_N], total = 0;
	int i, rc;

	if ((rc = read_cpu(now, b, err)))
		return rc;
	if (!st->have_cpu) {
		/* No previous run: measure over a short window now, so that a
		 * single run (--once) reports current use rather than nothing. */
		struct timespec ts = { 0, 250 * 1000 * 1000 };

		memcpy(st->cpu, now, sizeof(now));
		nanosleep(&ts, NULL);
		if ((rc = read_cpu(now, b, err)))
			return rc;
	}
	for (i = 0; i < CPU_N; i++) {
		d[i] = now[i] >= st->cpu[i] ? now[i] - st->cpu[i] : 0;
		total += d[i];
	}
	memcpy(st->cpu, now, sizeof(now));
	st->have_cpu = 1;
	if (!total)
		return 0;   /* no tick passed: nothing to say */
	lc_metrics_add(out, "system.cpu.user",
		       100.0 * (double)(d[CPU_USER] + d[CPU_NICE]) / (double)total,
		       LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.cpu.system",
		       100.0 * (double)(d[CPU_SYSTEM] + d[CPU_IRQ] + d[CPU_SOFTIRQ]) / (double)total,
		       LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.cpu.idle",
		       100.0 * (double)d[CPU_IDLE] / (double)total, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.cpu.iowait",
		       100.0 * (double)d[CPU_IOWAIT] / (double)total, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.cpu.stolen",
		       100.0 * (double)d[CPU_STEAL] / (double)total, LC_METRIC_GAUGE);
	return 0;
}

/* The kB value of "Key:   123 kB" in /proc/meminfo, or -1. */
static double meminfo_kb(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;
	double v;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			v = strtod(p + klen + 1, &end);
			return end == p + klen + 1 ? -1 : v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int memory(struct lc_metrics *out, struct lc_buf *b, struct lc_error *err)
{
	double total, free_kb, avail;
	int rc;

	if ((rc = read_file(b, "/proc/meminfo", err)))
		return rc;
	total = meminfo_kb(b->buf, "MemTotal");
	free_kb = meminfo_kb(b->buf, "MemFree");
	avail = meminfo_kb(b->buf, "MemAvailable");
	if (total < 0 || free_kb < 0)
		return lc_error_set(err, LC_EPARSE, "/proc/meminfo: no MemTotal or MemFree");
	lc_metrics_add(out, "system.mem.total", total / 1024, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.mem.used", (total - free_kb) / 1024, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.mem.free", free_kb / 1024, LC_METRIC_GAUGE);
	if (avail >= 0)
		lc_metrics_add(out, "system.mem.usable", avail / 1024, LC_METRIC_GAUGE);
	return 0;
}

static int disk(struct lc_metrics *out, const char *root, struct lc_error *err)
{
	struct statvfs sv;
	double unit;

	if (statvfs(root, &sv) < 0)
		return lc_error_set(err, LC_EIO, "statvfs %s: %s", root, strerror(errno));
	unit = (double)sv.f_frsize / 1024;
	lc_metrics_add(out, "system.disk.total", (double)sv.f_blocks * unit, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.disk.used",
		       (double)(sv.f_blocks - sv.f_bfree) * unit, LC_METRIC_GAUGE);
	lc_metrics_add(out, "system.disk.free", (double)sv.f_bavail * unit, LC_METRIC_GAUGE);
	return 0;
}

static int system_init(void **out, const struct lc_check_conf *conf,
		       const struct lc_check_instance *inst, struct lc_error *err)
{
	struct system_state *st = lc_xcalloc(1, sizeof(*st));

	st->root = "/";
	*out = st;
	return 0;
}

/* Every part is tried; the first failure is the check's error. */
static int system_run(void *state, struct lc_metrics *out,
		      const struct lc_cancel *cancel, struct lc_error *err)
{
	struct system_state *st = state;
	struct lc_error e = LC_ERROR_INIT;
	struct lc_buf b = LC_BUF_INIT;
	int rc = 0, r;

	if ((r = load_avg(out, &b, &e)) && !rc)
		rc = lc_error_set(err, r, "%s", e.msg);
	if ((r = cpu_percent(out, st, &b, &e)) && !rc)
		rc = lc_error_set(err, r, "%s", e.msg);
	if ((r = memory(out, &b, &e)) && !rc)
		rc = lc_error_set(err, r, "%s", e.msg);
	if ((r = disk(out, st->root, &e)) && !rc)
		rc = lc_error_set(err, r, "%s", e.msg);
	lc_buf_release(&b);
	return rc;
}

static void system_free(void *state)
{
	free(state);
}

const struct lc_check_ops lc_check_system_ops = {
	.kind = "system",
	.init = system_init,
	.run = system_run,
	.free = system_free,
};
