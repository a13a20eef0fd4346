"""labtrace: traces for the lab's Python apps, sent to the monitoring agent.

With ddtrace importable (the app runs under `ddtrace-run`), ddtrace does the
work and this module only hands out its tracer.  Without it, a small tracer
of its own sends the same v0.4 payloads (msgpack: Debian's python3-msgpack)
to the agent at $DD_AGENT_HOST:$DD_TRACE_AGENT_PORT (default
127.0.0.1:8126), once a second, from a background thread; a failed send is
dropped (and counted), never raised into the app.

Every span carries DD_SERVICE, DD_ENV and DD_VERSION (the unified service
tags).  `log_format()` and `LogFilter` put dd.trace_id and dd.span_id of the
current span into log lines, for log/trace correlation.

    tracer = labtrace.tracer()
    labtrace.trace_flask(app)                 # a span per request
    with tracer.trace("postgres.query", service="postgres", resource=sql):
        ...
"""
import logging
import os
import random
import threading
import time
import urllib.request

try:  # under ddtrace-run
    import ddtrace as _ddtrace
except ImportError:
    _ddtrace = None

__all__ = ["tracer", "trace_flask", "LogFilter", "log_format", "current_ids"]

log = logging.getLogger("labtrace")


def _env(name, default=""):
    return os.environ.get(name, "") or default


class Span(object):
    __slots__ = ("trace_id", "span_id", "parent_id", "name", "service", "resource",
                 "span_type", "start_ns", "duration_ns", "error", "meta", "metrics",
                 "_tracer", "_children_open", "_trace")

    def __init__(self, tracer, name, service, resource, span_type, parent):
        self._tracer = tracer
        self.name = name
        self.service = service
        self.resource = resource or name
        self.span_type = span_type
        self.span_id = random.getrandbits(63) or 1
        if parent is not None:
            self.trace_id = parent.trace_id
            self.parent_id = parent.span_id
            self._trace = parent._trace
        else:
            self.trace_id = random.getrandbits(63) or 1
            self.parent_id = 0
            self._trace = []
        self._trace.append(self)
        self.start_ns = time.time_ns()
        self.duration_ns = None
        self.error = 0
        self.meta = {}
        self.metrics = {}
        for key, var in (("env", "DD_ENV"), ("version", "DD_VERSION")):
            if _env(var):
                self.meta[key] = _env(var)

    def set_tag(self, key, value):
        self.meta[str(key)] = str(value)

    def set_exc_info(self, exc_type, exc, _tb=None):
        self.error = 1
        self.meta["error.type"] = exc_type.__name__
        self.meta["error.msg"] = str(exc)

    def finish(self):
        if self.duration_ns is None:
            self.duration_ns = max(time.time_ns() - self.start_ns, 0)
            self._tracer._finished(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.set_exc_info(exc_type, exc, tb)
        self._tracer._pop(self)
        self.finish()
        return False

    def to_dict(self):
        return {"trace_id": self.trace_id, "span_id": self.span_id,
                "parent_id": self.parent_id, "name": self.name, "service": self.service,
                "resource": self.resource, "type": self.span_type or "",
                "start": self.start_ns, "duration": self.duration_ns or 0,
                "error": self.error, "meta": self.meta, "metrics": self.metrics}


class Tracer(object):
    """The fallback tracer: the same spans ddtrace would send."""

    def __init__(self, host=None, port=None, interval=1.0):
        self.service = _env("DD_SERVICE", "unnamed-python-service")
        self.url = "http://%s:%s/v0.4/traces" % (host or _env("DD_AGENT_HOST", "127.0.0.1"),
                                                 port or _env("DD_TRACE_AGENT_PORT", "8126"))
        self.interval = interval
        self.sent = self.dropped = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ready = []          # finished traces
        self._thread = None

    # -- spans --------------------------------------------------------------
    def _stack(self):
        s = getattr(self._local, "stack", None)
        if s is None:
            s = self._local.stack = []
        return s

    def current_span(self):
        s = self._stack()
        return s[-1] if s else None

    def trace(self, name, service=None, resource=None, span_type=None):
        span = Span(self, name, service or self.service, resource, span_type,
                    self.current_span())
        self._stack().append(span)
        return span

    def _pop(self, span):
        s = self._stack()
        if span in s:
            s.remove(span)

    def _finished(self, span):
        if all(x.duration_ns is not None for x in span._trace):
            with self._lock:
                self._ready.append([x.to_dict() for x in span._trace])
            self._start()

    # -- sending ------------------------------------------------------------
    def _start(self):
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="labtrace",
                                                daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            time.sleep(self.interval)
            self.flush()

    def flush(self):
        with self._lock:
            traces, self._ready = self._ready, []
        if not traces:
            return
        try:
            import msgpack
            body = msgpack.packb(traces)
            req = urllib.request.Request(self.url, data=body, method="PUT",
                                         headers={"Content-Type": "application/msgpack",
                                                  "X-Datadog-Trace-Count": str(len(traces))})
            with urllib.request.urlopen(req, timeout=5) as resp:
                resp.read()
            self.sent += len(traces)
        except Exception as e:  # the app must not notice the agent is away
            self.dropped += len(traces)
            log.debug("traces not sent to %s: %s", self.url, e)


class _DDTracer(object):
    """ddtrace's tracer, with the calls the apps make."""

    def __init__(self, t):
        self._t = t

    def trace(self, name, service=None, resource=None, span_type=None):
        return self._t.trace(name, service=service, resource=resource, span_type=span_type)

    def current_span(self):
        return self._t.current_span()

    def flush(self):
        pass


_tracer = None


def tracer():
    """The process's tracer: ddtrace's when it runs, else labtrace's."""
    global _tracer
    if _tracer is None:
        _tracer = _DDTracer(_ddtrace.tracer) if _ddtrace is not None else Tracer()
    return _tracer


def using_ddtrace():
    return _ddtrace is not None


def current_ids():
    span = tracer().current_span()
    return (span.trace_id, span.span_id) if span is not None else (0, 0)


class LogFilter(logging.Filter):
    """Adds dd.trace_id, dd.span_id, dd.service, dd.env, dd.version."""

    def filter(self, record):
        trace_id, span_id = current_ids()
        setattr(record, "dd.trace_id", trace_id)
        setattr(record, "dd.span_id", span_id)
        setattr(record, "dd.service", _env("DD_SERVICE"))
        setattr(record, "dd.env", _env("DD_ENV"))
        setattr(record, "dd.version", _env("DD_VERSION"))
        return True


def log_format():
    return ("%(asctime)s %(levelname)s [dd.service=%(dd.service)s dd.env=%(dd.env)s "
            "dd.version=%(dd.version)s dd.trace_id=%(dd.trace_id)s "
            "dd.span_id=%(dd.span_id)s] %(name)s: %(message)s")


def setup_logging(level=logging.INFO):
    """The root logger, in the correlated format."""
    handler = logging.StreamHandler()
    handler.addFilter(LogFilter())
    handler.setFormatter(logging.Formatter(log_format()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def trace_flask(app):
    """A flask.request span per request, as ddtrace's Flask integration
    makes it: resource "METHOD /rule" ("METHOD 404" when no route matched),
    http.status_code, and an error for an exception or a 5xx answer.  Under
    ddtrace, ddtrace's own integration does this."""
    if using_ddtrace():
        return app
    from flask import g, request

    t = tracer()

    @app.before_request
    def _start():
        g._labtrace_span = t.trace("flask.request", span_type="web")

    @app.after_request
    def _status(response):
        span = getattr(g, "_labtrace_span", None)
        if span is not None:
            rule = request.url_rule.rule if request.url_rule is not None else None
            span.resource = "%s %s" % (request.method, rule or response.status_code)
            span.set_tag("http.method", request.method)
            span.set_tag("http.url", request.base_url)
            span.set_tag("http.status_code", response.status_code)
            if response.status_code >= 500:
                span.error = 1
        return response

    @app.teardown_request
    def _finish(exc):
        span = getattr(g, "_labtrace_span", None)
        if span is None:
            return
        if exc is not None:
            span.set_exc_info(type(exc), exc)
            span.set_tag("http.status_code", 500)
        t._pop(span)
        span.finish()

    return app
