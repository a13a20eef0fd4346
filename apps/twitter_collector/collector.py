#!/usr/bin/env python3
"""twitter_collector: keep the posts of a stream that carry a hashtag in
PostgreSQL, and serve the newest five as JSON.

Two threads:
  * ingest: reads posts (JSON lines) from $STREAM_SOURCE, a file replayed in a
    loop at $STREAM_RATE posts/s or an http(s):// streaming endpoint, and
    inserts those whose text has $HASHTAG (case-insensitive) into `tweets`;
  * http (main thread): GET /tweets/last/5 and GET /health on
    $APP_HOST:$APP_PORT.

The database may be down at any time: the ingest thread waits and retries
(with backoff) and the HTTP side answers 503 / db:false until it is back.

Traced (labtrace.py, next to this file, or ddtrace under ddtrace-run): an
http.request span per request, a postgres.query span (service postgres) per
query, DD_SERVICE/DD_ENV/DD_VERSION on each; log lines carry dd.trace_id and
dd.span_id.  Only Debian packages: python3, python3-psycopg2 and
python3-msgpack.
"""
import datetime
import itertools
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.errors

import labtrace

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = """CREATE TABLE IF NOT EXISTS tweets (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""
INSERT = """INSERT INTO tweets (id, username, text, created_at)
VALUES (%s, %s, %s, COALESCE(%s::timestamptz, now()))
ON CONFLICT (id) DO NOTHING"""
LAST = """SELECT id, username, text, created_at FROM tweets
ORDER BY id DESC LIMIT %s"""

log = logging.getLogger("twitter_collector")
tracer = labtrace.tracer()


def execute(cur, sql, args=None):
    """cur.execute(sql, args) as a postgres.query span."""
    with tracer.trace("postgres.query", service="postgres", span_type="sql",
                      resource=" ".join(sql.split())[:200]) as span:
        span.set_tag("db.system", "postgresql")
        return cur.execute(sql, args)


def env(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


class Config:
    def __init__(self):
        self.pg = {
            "host": env("PGHOST", "127.0.0.1"),
            "port": int(env("PGPORT", "5432")),
            "dbname": env("PGDATABASE", "lab"),
            "user": env("PGUSER", "collector"),
            "connect_timeout": 5,
            "application_name": "twitter-collector",
            "options": "-c TimeZone=UTC",
        }
        if env("PGPASSWORD"):
            self.pg["password"] = env("PGPASSWORD")
        self.app_host = env("APP_HOST", "127.0.0.1")
        self.app_port = int(env("APP_PORT", "8082"))
        self.source = env("STREAM_SOURCE", os.path.join(HERE, "sample_stream.jsonl"))
        self.rate = float(env("STREAM_RATE", "5"))
        self.hashtag = env("HASHTAG", "#love")
        tag = re.escape(self.hashtag.lstrip("#"))
        # A whole hashtag: "#love" and "#LOVE!" match, "#lovely" does not.
        self.pattern = re.compile(r"(?<![\w#])#" + tag + r"(?!\w)", re.IGNORECASE)


def short(exc):
    """The first line of a database error, for one-line logs."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(cfg):
    conn = psycopg2.connect(**cfg.pg)
    conn.autocommit = True
    return conn


# ---------------------------------------------------------------- sources

def parse_post(line):
    """A JSON line to (id, user, text, created_at or None); None if unusable."""
    line = line.strip()
    if not line:
        return None
    try:
        obj = json.loads(line)
        post_id = int(obj["id"])
        user = str(obj.get("user") or obj.get("username") or "")
        text = str(obj["text"])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("skipping bad line (%s): %.120s", exc, line)
        return None
    if not user:
        log.warning("skipping post %d without a user", post_id)
        return None
    created = obj.get("created_at")
    if created is not None:
        try:
            created = datetime.datetime.fromisoformat(str(created)).isoformat()
        except ValueError:
            created = None  # the database puts now() instead
    return post_id, user, text, created


def file_source(path, rate, first_loop_for):
    """Replay a JSON-lines file forever, `rate` posts per second.

    Ids grow across loops: pass k adds k * stride (at least 1,000,000) to
    each id, so the newest post keeps the largest id. Replayed posts are
    stamped with the current time, as a live stream would be. The first
    pass is chosen by `first_loop_for(stride)` so that a restart carries on
    above the ids already stored.
    """
    with open(path, encoding="utf-8") as fh:
        posts = [p for p in map(parse_post, fh) if p is not None]
    if not posts:
        raise RuntimeError("STREAM_SOURCE %s has no usable posts" % path)
    stride = 1_000_000
    while stride <= max(p[0] for p in posts):
        stride *= 10
    interval = 1.0 / rate if rate > 0 else 0.0
    loop = first_loop_for(stride)
    log.info("replaying %d posts from %s at %s/s, starting at pass %d",
             len(posts), path, rate, loop)
    next_at = time.monotonic()
    for loop in itertools.count(loop):
        for post_id, user, text, _created in posts:
            if interval:
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_at = time.monotonic()  # fell behind: do not burst
            now = datetime.datetime.now(datetime.timezone.utc).isoformat()
            yield post_id + loop * stride, user, text, now


def http_source(url):
    """Read JSON lines from a streaming endpoint; reconnect with backoff."""
    backoff = 1
    while True:
        try:
            log.info("connecting to stream %s", url)
            req = urllib.request.Request(url, headers={"Accept": "application/x-ndjson"})
            with urllib.request.urlopen(req, timeout=90) as resp:
                for raw in resp:
                    backoff = 1
                    post = parse_post(raw.decode("utf-8", "replace"))
                    if post is not None:
                        yield post
            log.warning("stream %s ended", url)
        except OSError as exc:
            log.warning("stream %s: %s", url, exc)
        log.info("reconnecting to the stream in %ds", backoff)
        time.sleep(backoff)
        backoff = min(backoff * 2, 60)


# ---------------------------------------------------------------- ingest

class Ingest(threading.Thread):
    def __init__(self, cfg):
        super().__init__(name="ingest", daemon=True)
        self.cfg = cfg
        self.conn = None
        self.read = self.matched = self.stored = 0

    def db(self):
        """A live connection with the schema in place; waits for the database."""
        backoff = 1
        while self.conn is None:
            try:
                conn = connect(self.cfg)
                with conn.cursor() as cur:
                    execute(cur, SCHEMA)
                self.conn = conn
                log.info("connected to PostgreSQL at %s:%s/%s", self.cfg.pg["host"],
                         self.cfg.pg["port"], self.cfg.pg["dbname"])
            except psycopg2.Error as exc:
                log.error("database unavailable (%s); retrying in %ds",
                          short(exc), backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)
        return self.conn

    def drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        self.conn = None

    def first_loop(self, stride):
        while True:
            try:
                with self.db().cursor() as cur:
                    execute(cur, "SELECT max(id) FROM tweets")
                    top = cur.fetchone()[0]
                return 0 if top is None else top // stride + 1
            except psycopg2.Error as exc:
                log.error("reading max(id): %s", exc)
                self.drop()

    def store(self, post):
        while True:
            try:
                with self.db().cursor() as cur:
                    execute(cur, INSERT, post)
                    return cur.rowcount
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                log.error("insert of post %d failed (%s); reconnecting",
                          post[0], short(exc))
                self.drop()
            except psycopg2.Error as exc:  # this post is bad, not the database
                log.error("post %d rejected: %s", post[0], short(exc))
                return 0

    def run(self):
        try:
            self.ingest()
        except BaseException:  # no silent half-dead service: let it restart
            log.exception("ingest stopped")
            os._exit(1)

    def ingest(self):
        src = self.cfg.source
        if src.startswith(("http://", "https://")):
            posts = http_source(src)
        else:
            posts = file_source(src, self.cfg.rate, self.first_loop)
        last_report = time.monotonic()
        for post in posts:
            self.read += 1
            if self.cfg.pattern.search(post[2]):
                self.matched += 1
                n = self.store(post)
                self.stored += n
                log.debug("post %d by %s: stored=%d", post[0], post[1], n)
            if time.monotonic() - last_report >= 60:
                last_report = time.monotonic()
                log.info("read %d posts, %d with %s, %d stored", self.read,
                         self.matched, self.cfg.hashtag, self.stored)


# ---------------------------------------------------------------- http

class Handler(BaseHTTPRequestHandler):
    server_version = "twitter-collector/1.0"
    cfg = None  # set in main

    def send_json(self, status, body):
        span = tracer.current_span()
        if span is not None:
            span.set_tag("http.status_code", status)
            if status >= 500:
                span.error = 1
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        known = path in ("/tweets/last/5", "/health")
        with tracer.trace("http.request", span_type="web",
                          resource="GET %s" % (path if known else "404")) as span:
            span.set_tag("http.method", "GET")
            span.set_tag("http.url", path)
            if path == "/tweets/last/5":
                self.last(5)
            elif path == "/health":
                self.health()
            else:
                self.send_json(404, {"error": "not found"})

    def last(self, n):
        try:
            conn = connect(self.cfg)
            try:
                with conn.cursor() as cur:
                    execute(cur, LAST, (n,))
                    rows = cur.fetchall()
            finally:
                conn.close()
        except psycopg2.errors.UndefinedTable:
            rows = []  # nothing ingested yet
        except psycopg2.Error as exc:
            log.error("GET %s: %s", self.path, short(exc))
            self.send_json(503, {"error": "database unavailable"})
            return
        self.send_json(200, [{"id": r[0], "user": r[1], "text": r[2],
                              "created_at": r[3].isoformat()} for r in rows])

    def health(self):
        try:
            conn = connect(self.cfg)
            try:
                with conn.cursor() as cur:
                    execute(cur, "SELECT 1")
                ok = True
            finally:
                conn.close()
        except psycopg2.Error:
            ok = False
        self.send_json(200, {"status": "ok", "db": ok})

    def log_message(self, fmt, *args):
        log.info("%s %s", self.address_string(), fmt % args)


def main():
    labtrace.setup_logging(env("LOG_LEVEL", "INFO").upper())
    cfg = Config()
    if not cfg.source.startswith(("http://", "https://")) and not os.access(cfg.source, os.R_OK):
        log.error("STREAM_SOURCE %s: not a readable file nor an http(s):// URL", cfg.source)
        return 1
    Handler.cfg = cfg
    def stop(signum, _frame):
        log.info("signal %d: stopping", signum)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    server = ThreadingHTTPServer((cfg.app_host, cfg.app_port), Handler)
    server.daemon_threads = True
    Ingest(cfg).start()
    log.info("listening on http://%s:%d (hashtag %s, source %s)", cfg.app_host,
             cfg.app_port, cfg.hashtag, cfg.source)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
