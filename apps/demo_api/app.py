#!/usr/bin/env python3
"""The lab's demo API (Flask), traced: every request is a flask.request span
sent to the monitoring agent, with nested spans for the work it does.

Listens on $APP_HOST:$APP_PORT (default 127.0.0.1:8081). The service, env and
version on every span come from DD_SERVICE, DD_ENV and DD_VERSION, the
unified service tags. Under ddtrace-run, ddtrace traces it; otherwise
labtrace.py (next to this file) sends the same spans. Log lines carry
dd.trace_id and dd.span_id.
"""
import logging
import os
import random
import time

from flask import Flask, jsonify

import labtrace

labtrace.setup_logging()
log = logging.getLogger("demo_api")
tracer = labtrace.tracer()
app = labtrace.trace_flask(Flask(__name__))


def tags():
    return {
        "service": os.environ.get("DD_SERVICE", "demo-api"),
        "env": os.environ.get("DD_ENV", ""),
        "version": os.environ.get("DD_VERSION", ""),
    }


def ids():
    trace_id, span_id = labtrace.current_ids()
    return {"trace_id": str(trace_id), "span_id": str(span_id)}


def work(name, resource, seconds, service=None):
    """A little (slept) work, as one span under the current one."""
    with tracer.trace(name, service=service, resource=resource):
        time.sleep(seconds)


@app.route("/")
def index():
    log.info("index")
    return jsonify(tags())


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/api/apm")
def apm():
    """A traced request and the calls it makes."""
    log.info("apm: two calls")
    work("postgres.query", "SELECT * FROM tweets", random.uniform(0.001, 0.01),
         service="postgres")
    work("http.request", "GET /tweets/last/5", random.uniform(0.001, 0.01))
    return jsonify(trace=ids(), **tags())


@app.route("/api/trace")
def trace():
    """Nested manual spans: a job, its steps and their parts."""
    log.info("trace: job.run")
    steps = []
    with tracer.trace("job.run", resource="job.run"):
        for name in ("load", "transform", "store"):
            with tracer.trace("job.step", resource=name):
                parts = random.randint(1, 3)
                for i in range(parts):
                    work("job.part", "%s.part%d" % (name, i + 1), random.uniform(0.001, 0.005))
            steps.append({"name": name, "parts": parts})
    return jsonify(trace=ids(), operation="job.run", steps=steps, **tags())


@app.route("/api/boom")
def boom():
    """An exception in a handler: a 500, and an error on the span."""
    log.info("boom: about to fail")
    raise RuntimeError("the demo fails on purpose")


if __name__ == "__main__":
    app.run(host=os.environ.get("APP_HOST", "127.0.0.1"),
            port=int(os.environ.get("APP_PORT", "8081")))
