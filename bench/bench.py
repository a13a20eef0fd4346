#!/usr/bin/env python3
"""bench/bench.py - the Python half of bench/run: timing, JSON, recaps,
medians and bench/results.md.  Standard library only.

  bench.py time BASE LAB CP -- CMD...  run CMD under /usr/bin/time (output in
                                       BASE.out, peak RSS in BASE.rss) and print
                                       "seconds rss_kib background_cores waited_s rc"
  bench.py floor LAB CP N -- ARG...    run ARG... N times in parallel, "{i}" in an
                                       ARG replaced by 1..N; print "seconds
                                       background_cores waited_s"; fails if one fails
  bench.py labctl FILE EXPECT          check a `labctl --json` output, print its figures
  bench.py ansible FILE EXPECT         check an ansible-playbook output (PLAY RECAP)
  bench.py line RAW FIGURE             the one-line summary of a figure
  bench.py results RAW LCSTATS META OUT   every line, then write OUT (markdown)

Times come from CLOCK_MONOTONIC (the wall clock of a shared machine may be
stepped).  Before each timed command, bench.py waits (up to BENCH_WAIT_MAX s,
default 30) until
the machine is quiet: other processes using less than QUIET_CORES of a CPU.
During the command it measures that background: all busy CPU time (from
/proc/stat) minus the CPU time of the command and its children, of every
process inside a bench lab host (root under LAB) and of Ansible's SSH masters
(command line naming CP), as a number of cores.

EXPECT is the number of changes every host must report: 0 (no-op), a number,
or "any" (a cold run: something changed); a failed or unreachable host is
always an error.  RAW has "figure tool rep seconds" lines; LCSTATS "figure rep"
followed by what `bench.py labctl` printed and labctl's peak RSS in KiB;
META "key value" lines (the machine).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

QUIET_CORES = 0.15
WAIT_MAX = float(os.environ.get("BENCH_WAIT_MAX", "30"))
TICK = os.sysconf("SC_CLK_TCK")
# The markers of results.md's section that bench/latency-report writes.
LATENCY_BEGIN, LATENCY_END = "<!-- latency:begin -->", "<!-- latency:end -->"

# Targets (the issue's): figure -> (text, check(values) -> (met, measured)).
LABCTL, ANSIBLE = "labctl", "ansible"


def die(msg):
    print("bench.py: " + msg, file=sys.stderr)
    sys.exit(1)


def expect_ok(host, changed, expect):
    if expect == "any":
        return changed > 0
    return changed == int(expect)


def cmd_labctl(path, expect):
    """Print: hosts changed conns_max exec_max rt_max sftp_max host_s_median
    host_s_max total_s; exit 1 if a host failed or changed unexpectedly."""
    summary = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            e = json.loads(line)
            if e.get("event") == "summary":
                summary = e
    if summary is None:
        die("%s: no summary line" % path)
    hosts = summary["hosts"]
    bad = []
    for h, v in sorted(hosts.items()):
        if v["failed"] or v["unreachable"]:
            bad.append("%s failed=%s unreachable=%s" % (h, v["failed"], v["unreachable"]))
        elif not expect_ok(h, v["changed"], expect):
            bad.append("%s changed=%d (expected %s)" % (h, v["changed"], expect))
    if bad:
        die("%s: %s" % (path, "; ".join(bad)))
    secs = [v["seconds"] for v in hosts.values()]
    print(len(hosts), sum(v["changed"] for v in hosts.values()),
          max(v["connections"] for v in hosts.values()),
          max(v["exec_channels"] for v in hosts.values()),
          max(v["round_trips"] for v in hosts.values()),
          max(v["sftp_files"] for v in hosts.values()),
          "%.3f" % statistics.median(secs), "%.3f" % max(secs),
          "%.3f" % summary["seconds"])


RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def cmd_ansible(path, expect):
    """Print: hosts changed; exit 1 on a failure or an unexpected change."""
    hosts = {}
    in_recap = False
    with open(path) as f:
        for line in f:
            if line.startswith("PLAY RECAP"):
                in_recap = True
                continue
            m = RECAP.match(line) if in_recap else None
            if m:
                hosts[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    if not hosts:
        die("%s: no PLAY RECAP" % path)
    bad = []
    for h, (ok, changed, unreach, failed) in sorted(hosts.items()):
        if unreach or failed:
            bad.append("%s failed=%d unreachable=%d" % (h, failed, unreach))
        elif not expect_ok(h, changed, expect):
            bad.append("%s changed=%d (expected %s)" % (h, changed, expect))
    if bad:
        die("%s: %s" % (path, "; ".join(bad)))
    print(len(hosts), sum(v[1] for v in hosts.values()))



# ---- timing ---------------------------------------------------------------

def busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def ours_ticks(lab, cp):
    """{(pid, starttime): CPU ticks, with reaped children} of the lab hosts'
    processes and of Ansible's SSH masters; key None: this process's children."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            root = os.readlink("/proc/%s/root" % pid)
            mine = root.startswith(lab)
            if not mine:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    mine = cp.encode() in f.read()
            if not mine:
                continue
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            # utime stime cutime cstime: fields 14-17 (1-based), here 11-14;
            # starttime: field 22, here 19
            out[(int(pid), fields[19])] = sum(int(x) for x in fields[11:15])
        except (OSError, ValueError, IndexError):
            continue
    r = os.times()
    out[None] = round((r.children_user + r.children_system) * TICK)
    return out


def ours_delta(a, b):
    """CPU used by our processes between samples a and b: a process seen in
    both counts its difference, a new one all of its time, and one that is
    gone counts nothing (what it used is in its reaper's cutime, or lost)."""
    return sum(t - a.get(k, 0) for k, t in b.items())


def cores(ticks, secs):
    return ticks / TICK / secs if secs > 0 else 0.0


def wait_quiet(lab, cp):
    """Wait until other processes use less than QUIET_CORES; return the wait."""
    t0 = time.monotonic()
    while True:
        b0, o0, m0 = busy_ticks(), ours_ticks(lab, cp), time.monotonic()
        time.sleep(0.5)
        b1, o1, m1 = busy_ticks(), ours_ticks(lab, cp), time.monotonic()
        if cores((b1 - b0) - ours_delta(o0, o1), m1 - m0) < QUIET_CORES or m1 - t0 > WAIT_MAX:
            return m1 - t0


class Meter:
    def __init__(self, lab, cp):
        self.lab, self.cp = lab, cp
        self.waited = wait_quiet(lab, cp)
        self.b0, self.o0 = busy_ticks(), ours_ticks(lab, cp)
        self.t0 = time.monotonic()

    def stop(self):
        self.secs = time.monotonic() - self.t0
        b1, o1 = busy_ticks(), ours_ticks(self.lab, self.cp)
        self.background = max(0.0, cores((b1 - self.b0) - ours_delta(self.o0, o1), self.secs))


def cmd_time(base, lab, cp, argv):
    m = Meter(lab, cp)
    with open(base + ".out", "wb") as out:
        rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", base + ".rss"] + argv,
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    m.stop()
    try:
        with open(base + ".rss") as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = 0
    print("%.6f %d %.3f %.1f %d" % (m.secs, rss, m.background, m.waited, rc))


def cmd_floor(lab, cp, n, argv):
    m = Meter(lab, cp)
    procs = [subprocess.Popen([a.replace("{i}", str(i)) for a in argv], stdin=subprocess.DEVNULL)
             for i in range(1, n + 1)]
    rcs = [p.wait() for p in procs]
    m.stop()
    print("%.6f %.3f %.1f" % (m.secs, m.background, m.waited))
    if any(rcs):
        die("floor: %d of %d commands failed" % (sum(1 for r in rcs if r), n))

BACKGROUND = {}   # (figure, tool) -> [cores used by other processes, per run]


def load_raw(path):
    raw = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5:
                continue
            fig, tool, _rep, secs, bg = parts
            raw.setdefault(fig, {}).setdefault(tool, []).append(float(secs))
            BACKGROUND.setdefault((fig, tool), []).append(float(bg))
    return raw


def bg(fig, tool):
    v = BACKGROUND.get((fig, tool))
    return "%.2f" % statistics.median(v) if v else "-"


def load_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            k, _, v = line.partition(" ")
            meta[k] = v
    return meta


def med(raw, fig, tool):
    v = raw.get(fig, {}).get(tool)
    return statistics.median(v) if v else None


def n(raw, fig, tool):
    return len(raw.get(fig, {}).get(tool, []))


def fmt(x, digits=3):
    return "-" if x is None else ("%.*f" % (digits, x))


def line_for(raw, fig):
    tools = raw.get(fig, {})
    if LABCTL in tools and ANSIBLE in tools:
        lm, am = med(raw, fig, LABCTL), med(raw, fig, ANSIBLE)
        return "%s labctl_median_s=%s ansible_median_s=%s ratio=%s (n=%d/%d)" % (
            fig, fmt(lm), fmt(am, 2), fmt(am / lm, 1), n(raw, fig, LABCTL), n(raw, fig, ANSIBLE))
    parts = ["%s_median_s=%s" % (t, fmt(med(raw, fig, t))) for t in sorted(tools)]
    return "%s %s (n=%d)" % (fig, " ".join(parts), max(len(v) for v in tools.values()))


def cmd_line(raw_path, fig):
    raw = load_raw(raw_path)
    if fig not in raw:
        die("no figure %s" % fig)
    print(line_for(raw, fig))


FIG_ORDER = ["cold_5", "cold_5_facts", "noop_5", "noop_5_facts", "onechange_5",
             "floor_5", "floor_hash_5", "ping_5",
             "cold_20", "noop_20", "floor_20", "floor_hash_20", "ping_20",
             "cold_50", "noop_50", "floor_50", "floor_hash_50", "ping_50"]

DESCR = {
    "cold": "cold: fresh hosts to fully converged",
    "noop": "no-op: converge when nothing changed",
    "onechange": "one change: one file of bench_1 changed, that host only",
    "floor": "floor: parallel `ssh HOST true`, fresh connections",
    "floor_hash": "hash floor: parallel `ssh HOST` hashing every managed file, fresh connections",
    "ping": "labctl ping: connect, log in, one empty batch (labctl's SSH cost alone)",
}


def describe(fig):
    base = re.sub(r"_\d+(_facts)?$", "", fig)
    d = DESCR.get(base, fig)
    if fig.endswith("_facts"):
        d += "; Ansible gathers facts"
    return d


def figures(raw):
    known = [f for f in FIG_ORDER if f in raw]
    return known + sorted(f for f in raw if f not in FIG_ORDER)


def load_lcstats(path):
    """figure -> list of dicts, one per labctl run."""
    keys = ("hosts", "changed", "connections", "exec_channels", "round_trips", "sftp_files",
            "host_s_median", "host_s_max", "total_s", "rss_kib")
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2 + len(keys):
                continue
            d = dict(zip(keys, (float(x) for x in parts[2:])))
            out.setdefault(parts[0], []).append(d)
    return out


def lc_max(lc, key, pred=lambda fig: True):
    vals = [r[key] for fig, runs in lc.items() if pred(fig) for r in runs]
    return max(vals) if vals else None


def is_noop(fig):
    return fig.startswith("noop_")


def targets(raw, lc):
    """[(target, measured, met)]; met is None when a figure is missing."""
    out = []

    def ratio(fig):
        lm, am = med(raw, fig, LABCTL), med(raw, fig, ANSIBLE)
        return None if lm is None or am is None else am / lm

    def add(text, value, shown, ok):
        out.append((text, shown if value is not None else "not measured",
                    None if value is None else ok(value)))

    r = ratio("noop_5")
    add("no-op, 5 hosts: >= 50x faster than ansible-playbook", r, "%.1fx" % (r or 0), lambda v: v >= 50)
    lm, fl = med(raw, "noop_5", LABCTL), med(raw, "floor_5", "ssh")
    q = lm / fl if lm is not None and fl is not None else None
    add("no-op, 5 hosts: within 1.5x of the floor (parallel `ssh HOST true`)", q,
        "%.2fx (%s s vs %s s)" % (q or 0, fmt(lm), fmt(fl)), lambda v: v <= 1.5)
    r = ratio("cold_5")
    add("cold, 5 hosts: >= 20x faster", r, "%.1fx" % (r or 0), lambda v: v >= 20)
    r = ratio("onechange_5")
    add("one change: >= 30x faster", r, "%.1fx" % (r or 0), lambda v: v >= 30)
    l50, l5 = med(raw, "noop_50", LABCTL), med(raw, "noop_5", LABCTL)
    q = l50 / l5 if l50 is not None and l5 is not None else None
    f50, f5 = med(raw, "floor_50", "ssh"), med(raw, "floor_5", "ssh")
    fq = " (the floor itself: %.2fx" % (f50 / f5) if f50 and f5 else ""
    p50 = med(raw, "ping_50", LABCTL)
    if p50 is not None and l5:
        fq += "%s`labctl ping` of 50 hosts: %s s = %.2fx the 5-host no-op" % (
            "; " if fq else " (", fmt(p50), p50 / l5)
    fq += ")" if fq else ""
    add("no-op, 50 hosts: within 3x of the 5-host no-op", q,
        "%.2fx (%s s vs %s s)%s" % (q or 0, fmt(l50), fmt(l5), fq), lambda v: v <= 3)
    rss = lc_max(lc, "rss_kib", lambda f: f.endswith("_50"))
    rv = rss / 1024 if rss is not None else None
    detail = ", ".join("%s %.1f MiB" % (f, lc_max(lc, "rss_kib", lambda g, f=f: g == f) / 1024)
                       for f in figures_of(lc) if f.endswith("_50"))
    add("peak RSS at 50 hosts < 30 MiB", rv, "%.1f MiB (%s)" % (rv or 0, detail), lambda v: v < 30)
    c = lc_max(lc, "connections")
    add("<= 1 SSH connection per host per run", c, "%d (max over every labctl run; exec channels: %d)" % (
        c or 0, lc_max(lc, "exec_channels") or 0), lambda v: v <= 1)
    rt = lc_max(lc, "round_trips", is_noop)
    add("<= 2 command round trips per host for a no-op", rt, "%d" % (rt or 0), lambda v: v <= 2)
    return out


def figures_of(d):
    known = [f for f in FIG_ORDER if f in d]
    return known + sorted(f for f in d if f not in FIG_ORDER)


METHOD = """\
## Method

- Workload (`bench/roles/benchwork/role.yaml` = `bench/ansible/bench.yml`, task for
  task, on the same files): two directories, an 8 MiB binary (generated by `bench/run`),
  a template (hostname, tags, env, site), three line edits of it (labctl `edit`
  `line`/`match`, Ansible `lineinfile` with the same `regexp`/`line`), a tree of 20
  small files in two directories, a guarded command (`creates:`).  Nine operations,
  nine tasks.
- Before any timing `bench/run` converges fresh hosts with each tool and compares, host
  by host, the type, mode, owner, group and SHA-256 of every path under `/opt/bench` and
  `/etc/bench` (a diff of sorted listings); it stops if they differ.  It checks the same
  again on the first cold run of every scale, and checks every timed run's recap
  (labctl `--json` summary, Ansible's PLAY RECAP): no failure, no unreachable host, 0
  changes for a no-op, exactly 1 for the one change.
- Hosts: labctl's local provider (`provider: local`), `bench_1`..`bench_N` on
  127.0.30.1..N, `-j 10` (labctl's default) against Ansible's `forks = 10`.  Cold =
  `labctl down` + `labctl up` of the same hosts with no roles (fresh hosts with sshd
  running), then only the converge is timed.  One change = one file of the role's tree
  (`conf.d/check_07.yaml`) changed in the sources, then `labctl converge bench_1` vs
  `ansible-playbook --limit bench_1`.
- Ansible (`bench/ansible/ansible.cfg`): pipelining, `ControlMaster=auto`,
  `ControlPersist=60s` (a no-op run within 60 s of the previous one reuses its
  connections, which favours Ansible), 10 forks, `interpreter_python` set (no
  discovery), host keys checked against labctl's known_hosts.  The main figures use
  `gathering = explicit` (no facts: the workload needs none, and labctl reads none);
  the `_facts` figures are the same runs with Ansible's default implicit fact gathering.
  The template task has `force: false`: an Ansible template followed by `lineinfile`
  edits of the same file would rewrite and re-edit it on every run (never a no-op);
  labctl composes template and edits locally and compares once.
- Floor: `ssh HOST true` to every host in parallel, OpenSSH with fresh connections
  (`ControlPath=none`); the hash floor additionally hashes every managed file
  (`sha256sum`), what a no-op would cost that reads every file.  labctl's no-op reads
  none: each host keeps a digest cache (`/var/lib/labctl/sums`) of the files unchanged
  for 2 s, found by their stat signature (device, inode, size, mtime, ctime), so the
  first converge after a change reads the files it wrote and later ones only `stat`
  them.  `ping` is `labctl ping`: labctl's own connection, login and one empty batch.
- Wall time is measured around each command with CLOCK_MONOTONIC (`bench.py time`);
  labctl's peak RSS with `/usr/bin/time` (`%M`); connections, exec channels and round
  trips are labctl's own `--json` counts.
- The machine may be shared.  Before each timed command `bench.py` waits (at most 30 s)
  until other processes use less than 0.15 of a core, and it measures what they used
  during the command: "background (cores)" in the table is the median over the runs
  (labctl / Ansible) of all busy CPU time minus that of the command, of the bench
  hosts' processes and of Ansible's SSH masters, divided by the duration.  Near 0 means
  the figure was measured on an otherwise idle machine.
"""


def cmd_results(raw_path, lc_path, meta_path, out_path):
    raw, lc, meta = load_raw(raw_path), load_lcstats(lc_path), load_meta(meta_path)
    figs = figures(raw)
    for f in figs:
        print(line_for(raw, f))
    for sc in ("5", "20", "50"):
        rss = lc_max(lc, "rss_kib", lambda f, sc=sc: f.endswith("_" + sc))
        if rss is not None:
            print("labctl_peak_rss_%s_hosts_mib=%.1f" % (sc, rss / 1024))
    for key in ("connections", "exec_channels", "round_trips"):
        print("labctl_%s_per_host noop_max=%d all_runs_max=%d" % (
            key, lc_max(lc, key, is_noop) or 0, lc_max(lc, key) or 0))
    tg = targets(raw, lc)
    for text, shown, met in tg:
        print("target %s: %s -> %s" % (text, shown, {True: "met", False: "NOT met", None: "-"}[met]))

    L = []
    L.append("# labctl vs Ansible: benchmark results")
    L.append("")
    L.append("Written by `bench/run%s`; every figure below was measured in that one run, "
             "labctl and Ansible alternating. Times are wall-clock seconds, medians over the "
             "repetitions (n = labctl/Ansible runs). Ratio = Ansible median / labctl median. "
             "Timings are never pass/fail thresholds of a test." % meta.get("args", ""))
    L.append("")
    L.append("## Machine")
    L.append("")
    for k, label in (("date", "date"), ("cpu", "CPU"), ("nproc", "nproc"), ("memory", "memory"),
                     ("kernel", "kernel"), ("os", "OS"), ("labctl_commit", "labctl commit"),
                     ("labctl_binary", "labctl binary"), ("ansible", "Ansible"),
                     ("openssh", "OpenSSH"), ("python", "Python"), ("reps", "repetitions"),
                     ("load_start", "load average at the start"), ("load_end", "load average at the end")):
        if k in meta:
            L.append("- %s: %s" % (label, meta[k]))
    L.append("")
    L.append("## Figures")
    L.append("")
    L.append("| figure | what | labctl median (s) | Ansible median (s) | ratio | n | background (cores) |")
    L.append("|---|---|---:|---:|---:|---|---|")
    for f in figs:
        tools = raw[f]
        if LABCTL in tools and ANSIBLE in tools:
            lm, am = med(raw, f, LABCTL), med(raw, f, ANSIBLE)
            L.append("| %s | %s | %s | %s | %.1f | %d/%d | %s / %s |" % (
                f, describe(f), fmt(lm), fmt(am, 2), am / lm, n(raw, f, LABCTL), n(raw, f, ANSIBLE),
                bg(f, LABCTL), bg(f, ANSIBLE)))
        else:
            t = sorted(tools)[0]
            L.append("| %s | %s | %s (%s) | | | %d | %s |" % (
                f, describe(f), fmt(med(raw, f, t)), t, n(raw, f, t), bg(f, t)))
    L.append("")
    L.append("labctl's own counts from its `--json` summary (per host: max over the hosts and "
             "runs; host seconds: median of the per-run medians / max), its own total time "
             "(median) and its peak RSS (max):")
    L.append("")
    L.append("| figure | connections | exec channels | round trips | SFTP files | host seconds (median / max) | labctl total (s) | peak RSS (MiB) |")
    L.append("|---|---:|---:|---:|---:|---|---:|---:|")
    for f in figures_of(lc):
        runs = lc[f]
        L.append("| %s | %d | %d | %d | %d | %.3f / %.3f | %.3f | %.1f |" % (
            f, max(r["connections"] for r in runs), max(r["exec_channels"] for r in runs),
            max(r["round_trips"] for r in runs), max(r["sftp_files"] for r in runs),
            statistics.median(r["host_s_median"] for r in runs), max(r["host_s_max"] for r in runs),
            statistics.median(r["total_s"] for r in runs), max(r["rss_kib"] for r in runs) / 1024))
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    for text, shown, met in tg:
        L.append("| %s | %s | %s |" % (text, shown, {True: "met", False: "**not met**", None: "-"}[met]))
    L.append("")
    L.append(METHOD)
    if meta.get("deviations"):
        L.append("This run: " + meta["deviations"])
        L.append("")
    # bench/latency-run's section is its own run: keep it as it is.
    try:
        old = open(out_path).read()
    except OSError:
        old = ""
    if LATENCY_BEGIN in old and LATENCY_END in old:
        L.append(old[old.index(LATENCY_BEGIN):old.index(LATENCY_END) + len(LATENCY_END)])
        L.append("")
    with open(out_path, "w") as f:
        f.write("\n".join(L))


def main(argv):
    if len(argv) >= 6 and argv[1] == "time" and argv[5] == "--":
        return cmd_time(argv[2], argv[3], argv[4], argv[6:])
    if len(argv) >= 6 and argv[1] == "floor" and argv[5] == "--":
        return cmd_floor(argv[2], argv[3], int(argv[4]), argv[6:])
    if len(argv) >= 2 and argv[1] == "labctl" and len(argv) == 4:
        cmd_labctl(argv[2], argv[3])
    elif len(argv) >= 2 and argv[1] == "ansible" and len(argv) == 4:
        cmd_ansible(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "line":
        cmd_line(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "results":
        cmd_results(argv[2], argv[3], argv[4], argv[5])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
