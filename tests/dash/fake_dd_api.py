#!/usr/bin/env python3
"""A local stand-in for the subset of the Datadog API v1 that `labctl dash`
uses: dashboards, monitors and downtimes (list, create, get, update, delete
with ids).

It listens on 127.0.0.1 only, on a free port it writes to --port-file.  Every
request must carry the DD-API-KEY and DD-APPLICATION-KEY headers with the
values of $FAKE_DD_API_KEY and $FAKE_DD_APP_KEY (else 403), and every write a
JSON body whose required fields are checked as the real API does (else 400,
{"errors": [...]}).  Like the real API it adds fields of its own to what it
stores (ids, timestamps, option defaults, widget ids), answers numbers as
floats (800.0), sorts tags, turns a "metric alert" into a "query alert" and a
downtime's scope string into a list: labctl must compare only what it sets.

Every request is appended to --log as one JSON line: method, path, status,
whether the keys matched, and the body (the key values are never logged).

Test controls (no keys needed):
  POST /_test/fail   {"status": 429, "count": 1, "reset": 1, "method": "PUT",
                      "errors": ["..."]}   the next matching request(s) get it
  POST /_test/hang   {"seconds": 3, "count": 1, "method": "POST"}   the next
                     matching request(s) answer that late (and then do their work)
  GET  /_test/state  every stored object
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()
STATE = {"dashboard": {}, "monitor": {}, "downtime": {}}
NEXT_ID = {"monitor": 1000, "downtime": 5000}
FAILS = []    # [{"status", "count", "reset", "method", "errors"}]
HANGS = []    # [{"seconds", "count"}]
LOG = None
API_KEY = os.environ.get("FAKE_DD_API_KEY", "")
APP_KEY = os.environ.get("FAKE_DD_APP_KEY", "")

WEEK_DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
MONITOR_TYPES = {"metric alert", "query alert", "service check", "event alert",
                 "log alert", "process alert", "composite"}
DASH_KEYS = {"title", "description", "layout_type", "widgets", "template_variables",
             "notify_list", "reflow_type", "is_read_only", "tags",
             "template_variable_presets"}
MONITOR_KEYS = {"name", "type", "query", "message", "tags", "options", "priority",
                "restricted_roles"}
DOWNTIME_KEYS = {"scope", "monitor_id", "monitor_tags", "start", "end", "timezone",
                 "recurrence", "message", "mute_first_recovery_notification",
                 "notify_end_states", "notify_end_types"}


class Bad(Exception):
    pass


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def str_list(v, what):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Bad(f"{what} must be a list of strings")


def unknown(body, allowed, what):
    extra = sorted(set(body) - allowed)
    if extra:
        raise Bad(f"unknown field(s) in {what}: {', '.join(extra)}")


def check_dashboard(b):
    unknown(b, DASH_KEYS, "dashboard")
    if not isinstance(b.get("title"), str) or not b["title"]:
        raise Bad("Dashboard title is required")
    if b.get("layout_type") not in ("ordered", "free"):
        raise Bad("layout_type must be 'ordered' or 'free'")
    if not isinstance(b.get("widgets"), list):
        raise Bad("widgets is required and must be a list")
    if "description" in b and b["description"] is not None and not isinstance(b["description"], str):
        raise Bad("description must be a string")
    for i, w in enumerate(b["widgets"]):
        d = w.get("definition") if isinstance(w, dict) else None
        if not isinstance(d, dict) or not isinstance(d.get("type"), str):
            raise Bad(f"widgets[{i}] needs a definition with a type")
        if d["type"] == "timeseries":
            reqs = d.get("requests")
            if not isinstance(reqs, list) or not reqs:
                raise Bad(f"widgets[{i}]: a timeseries needs requests")
            for r in reqs:
                if not isinstance(r, dict) or not isinstance(r.get("q"), str):
                    raise Bad(f"widgets[{i}]: each request needs a query 'q'")


def check_monitor(b):
    unknown(b, MONITOR_KEYS, "monitor")
    if b.get("type") not in MONITOR_TYPES:
        raise Bad(f"Invalid monitor type: {b.get('type')!r}")
    if not isinstance(b.get("query"), str) or not b["query"]:
        raise Bad("The value provided for parameter 'query' is invalid")
    for k in ("name", "message"):
        if k in b and not isinstance(b[k], str):
            raise Bad(f"{k} must be a string")
    if "tags" in b:
        str_list(b["tags"], "tags")
    o = b.get("options", {})
    if not isinstance(o, dict):
        raise Bad("options must be an object")
    th = o.get("thresholds", {})
    if not isinstance(th, dict) or not all(is_num(v) for v in th.values()):
        raise Bad("thresholds must be numbers")
    m = re.search(r"([<>]=?)\s*(-?[0-9.]+)\s*$", b["query"])
    if b["type"] in ("metric alert", "query alert"):
        if not m:
            raise Bad("a metric alert query needs a comparison with the critical threshold")
        if "critical" in th and float(th["critical"]) != float(m.group(2)):
            raise Bad(f"Alert threshold ({th['critical']}) does not match that used in "
                      f"the query ({m.group(2)}).")
        if "warning" in th and "critical" in th and m.group(1).startswith(">") and \
                th["warning"] >= th["critical"]:
            raise Bad("Warning threshold must be below the alert threshold")
    if "notify_no_data" in o and not isinstance(o["notify_no_data"], bool):
        raise Bad("notify_no_data must be a boolean")
    if "no_data_timeframe" in o and not is_int(o["no_data_timeframe"]):
        raise Bad("no_data_timeframe must be an integer")


def check_downtime(b):
    unknown(b, DOWNTIME_KEYS, "downtime")
    s = b.get("scope")
    if isinstance(s, str):
        s = [s]
    if not isinstance(s, list) or not s or not all(isinstance(x, str) and x for x in s):
        raise Bad("scope is required: a tag or a list of tags")
    for k in ("start", "end"):
        if k in b and b[k] is not None and not is_int(b[k]):
            raise Bad(f"{k} must be a POSIX timestamp")
    if is_int(b.get("start")) and is_int(b.get("end")) and b["end"] <= b["start"]:
        raise Bad("end must be after start")
    if "monitor_id" in b and b["monitor_id"] is not None and not is_int(b["monitor_id"]):
        raise Bad("monitor_id must be an integer")
    if "monitor_tags" in b:
        str_list(b["monitor_tags"], "monitor_tags")
    if "message" in b and not isinstance(b["message"], str):
        raise Bad("message must be a string")
    r = b.get("recurrence")
    if r is not None:
        if not isinstance(r, dict) or r.get("type") not in ("days", "weeks", "months", "years"):
            raise Bad("recurrence.type must be days, weeks, months or years")
        if not is_int(r.get("period")) or r["period"] < 1:
            raise Bad("recurrence.period must be a positive integer")
        if "week_days" in r:
            if r["type"] != "weeks":
                raise Bad("week_days only go with type weeks")
            if not isinstance(r["week_days"], list) or not set(r["week_days"]) <= WEEK_DAYS:
                raise Bad("week_days must be among Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        if not is_int(b.get("start")) or not is_int(b.get("end")):
            raise Bad("a recurring downtime needs start and end")


CHECKS = {"dashboard": check_dashboard, "monitor": check_monitor, "downtime": check_downtime}


def floats(v):
    """Numbers as the real API answers them."""
    if isinstance(v, dict):
        return {k: floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [floats(x) for x in v]
    if is_int(v):
        return float(v)
    return v


def store(kind, oid, body, old=None):
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
    if kind == "dashboard":
        o = dict(body)
        o.setdefault("description", None)
        o["widgets"] = [dict(w, id=abs(hash((oid, i))) % 10**15)
                        for i, w in enumerate(body["widgets"])]
        o.update(id=oid, url=f"/dashboard/{oid}/x", author_handle="fake@example.com",
                 created_at=old["created_at"] if old else now, modified_at=now,
                 is_read_only=False, notify_list=None, reflow_type="auto")
    elif kind == "monitor":
        o = dict(old or {})
        o.update(body)
        if o["type"] == "metric alert":
            o["type"] = "query alert"
        opts = {"notify_audit": False, "include_tags": True, "new_host_delay": 300,
                "silenced": {}}
        opts.update((old or {}).get("options", {}) if "options" not in body else {})
        opts.update(floats(body.get("options", {})))
        o["options"] = opts
        o["tags"] = sorted(o.get("tags", []))
        o.update(id=oid, created=(old or {}).get("created", now), modified=now,
                 overall_state="No Data", multi=False, deleted=None, priority=o.get("priority"),
                 creator={"email": "fake@example.com", "handle": "fake@example.com"})
        o.setdefault("message", "")
    else:
        o = dict(old or {})
        o.update(body)
        if isinstance(o.get("scope"), str):
            o["scope"] = [o["scope"]]
        if isinstance(o.get("recurrence"), dict):
            o["recurrence"] = dict(o["recurrence"], until_date=None, until_occurrences=None)
        o.setdefault("monitor_id", None)
        o.setdefault("timezone", "UTC")
        o.setdefault("message", None)
        o.update(id=oid, active=False, canceled=None, disabled=False, downtime_type=2,
                 parent_id=None, creator_id=1, updater_id=1 if old else None,
                 mute_first_recovery_notification=False)
    STATE[kind][oid] = o
    return o


def new_id(kind):
    if kind == "dashboard":
        h = uuid.uuid4().hex
        return f"{h[0:3]}-{h[3:6]}-{h[6:9]}"
    NEXT_ID[kind] += 1
    return NEXT_ID[kind]


def summary(d):
    return {k: d.get(k) for k in ("id", "title", "description", "layout_type", "url",
                                  "author_handle", "created_at", "modified_at",
                                  "is_read_only")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-dd-api/1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj=None, headers=None, log=None):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)
        if log is not None:
            log["status"] = status
            with LOCK:
                LOG.write(json.dumps(log) + "\n")
                LOG.flush()

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        path = self.path.split("?")[0]
        if path.startswith("/_test/"):
            return self.control(method, path, raw)
        keys_ok = (self.headers.get("DD-API-KEY") == API_KEY and
                   self.headers.get("DD-APPLICATION-KEY") == APP_KEY and bool(API_KEY))
        log = {"method": method, "path": path, "keys_ok": keys_ok,
               "content_type": self.headers.get("Content-Type"),
               "user_agent": self.headers.get("User-Agent")}
        body = None
        if raw:
            try:
                body = json.loads(raw)
                log["body"] = body
            except ValueError:
                log["body_raw"] = raw.decode("utf-8", "replace")
        with LOCK:
            hang = next((h for h in HANGS if h["count"] > 0 and
                         h.get("method", "*") in ("*", method)), None)
            if hang:
                hang["count"] -= 1
                log["hung"] = hang["seconds"]
        if hang:
            time.sleep(hang["seconds"])
        if not keys_ok:
            return self.answer(403, {"errors": ["Forbidden"]}, log=log)
        with LOCK:
            for f in FAILS:
                if f["count"] > 0 and f.get("method", "*") in ("*", method):
                    f["count"] -= 1
                    headers = {}
                    if f["status"] == 429:
                        headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Period": "10",
                                   "X-RateLimit-Remaining": "0",
                                   "X-RateLimit-Reset": str(f.get("reset", 1))}
                    log["injected"] = True
                    errors = f.get("errors", ["Too many requests"] if f["status"] == 429
                                   else ["injected failure"])
                    break
            else:
                f = None
        if f:
            return self.answer(f["status"], {"errors": errors}, headers, log=log)
        m = re.fullmatch(r"/api/v1/(dashboard|monitor|downtime)(?:/([A-Za-z0-9-]+))?", path)
        if not m:
            return self.answer(404, {"errors": ["Not found"]}, log=log)
        kind, oid = m.group(1), m.group(2)
        if method in ("POST", "PUT"):
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self.answer(415, {"errors": ["Content-Type must be application/json"]},
                                   log=log)
            if not isinstance(body, dict):
                return self.answer(400, {"errors": ["The body must be a JSON object"]}, log=log)
        with LOCK:
            objs = STATE[kind]
            if oid is not None and kind != "dashboard":
                oid = int(oid) if oid.isdigit() else oid
            if method == "GET" and oid is None:
                items = list(objs.values())
                if kind == "dashboard":
                    return self.answer(200, {"dashboards": [summary(d) for d in items]}, log=log)
                return self.answer(200, items, log=log)
            if method == "POST" and oid is None:
                try:
                    CHECKS[kind](body)
                except Bad as e:
                    return self.answer(400, {"errors": [str(e)]}, log=log)
                o = store(kind, new_id(kind), body)
                return self.answer(200, o, log=log)
            if oid is None or oid not in objs:
                return self.answer(404, {"errors": [f"{kind} not found"]}, log=log)
            if method == "GET":
                return self.answer(200, objs[oid], log=log)
            if method == "PUT":
                try:
                    if kind == "dashboard":
                        check_dashboard(body)     # a PUT replaces the whole dashboard
                    else:                         # monitors, downtimes: fields given change
                        allowed = MONITOR_KEYS if kind == "monitor" else DOWNTIME_KEYS
                        unknown(body, allowed, kind)
                        merged = {k: v for k, v in objs[oid].items() if k in allowed}
                        merged.update(body)
                        CHECKS[kind](merged)
                except Bad as e:
                    return self.answer(400, {"errors": [str(e)]}, log=log)
                o = store(kind, oid, body, objs[oid])
                return self.answer(200, o, log=log)
            if method == "DELETE":
                del objs[oid]
                if kind == "downtime":
                    return self.answer(204, None, log=log)
                return self.answer(200, {f"deleted_{kind}_id": oid}, log=log)
        return self.answer(405, {"errors": ["Method not allowed"]}, log=log)

    def control(self, method, path, raw):
        req = json.loads(raw) if raw else {}
        with LOCK:
            if path == "/_test/fail":
                FAILS.append(dict({"count": 1, "method": "*"}, **req))
            elif path == "/_test/hang":
                HANGS.append(dict({"count": 1}, **req))
            elif path == "/_test/state":
                return self.answer(200, {k: list(v.values()) for k, v in STATE.items()})
            else:
                return self.answer(404, {"errors": ["unknown control"]})
        return self.answer(200, {"ok": True})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    if not API_KEY or not APP_KEY:
        sys.exit("fake_dd_api: set FAKE_DD_API_KEY and FAKE_DD_APP_KEY")
    LOG = open(a.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)   # loopback only, a free port
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
