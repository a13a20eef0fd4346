#!/usr/bin/env python3
"""The lab's demo API (Flask): small JSON endpoints that look like traced work.

Listens on $APP_HOST:$APP_PORT (default 127.0.0.1:8081). The service, env and
version reported come from DD_SERVICE, DD_ENV and DD_VERSION, the unified
service tags the agent uses.
"""
import os
import random
import time
import uuid

from flask import Flask, jsonify

app = Flask(__name__)


def tags():
    return {
        "service": os.environ.get("DD_SERVICE", "demo-api"),
        "env": os.environ.get("DD_ENV", ""),
        "version": os.environ.get("DD_VERSION", ""),
    }


def new_id():
    return random.getrandbits(63)


def timed(name, resource, parent_id, trace_id, work_s):
    """Do (sleep) a little work and describe it as one span."""
    start = time.time()
    time.sleep(work_s)
    return {
        "trace_id": trace_id,
        "span_id": new_id(),
        "parent_id": parent_id,
        "name": name,
        "resource": resource,
        "start": start,
        "duration_ms": round((time.time() - start) * 1000, 3),
    }


@app.route("/")
def index():
    return jsonify(tags())


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/api/apm")
def apm():
    """One fake traced operation: a request span and its children."""
    trace_id, root_id = new_id(), new_id()
    start = time.time()
    children = [
        timed("postgres.query", "SELECT * FROM tweets", root_id, trace_id,
              random.uniform(0.001, 0.01)),
        timed("http.request", "GET /tweets/last/5", root_id, trace_id,
              random.uniform(0.001, 0.01)),
    ]
    root = {
        "trace_id": trace_id, "span_id": root_id, "parent_id": 0,
        "name": "flask.request", "resource": "GET /api/apm", "start": start,
        "duration_ms": round((time.time() - start) * 1000, 3),
    }
    return jsonify(trace=trace_id, spans=[root] + children, **tags())


@app.route("/api/trace")
def trace():
    """Simulated nested work: a job, its steps and their sub-steps, timed."""
    trace_id = uuid.uuid4().hex
    t0 = time.perf_counter()
    steps = []
    for name in ("load", "transform", "store"):
        s0 = time.perf_counter()
        subs = []
        for i in range(random.randint(1, 3)):
            u0 = time.perf_counter()
            time.sleep(random.uniform(0.001, 0.005))
            subs.append({"name": "%s.part%d" % (name, i + 1),
                         "duration_ms": round((time.perf_counter() - u0) * 1000, 3)})
        steps.append({"name": name, "children": subs,
                      "duration_ms": round((time.perf_counter() - s0) * 1000, 3)})
    return jsonify(trace_id=trace_id, operation="job.run", steps=steps,
                   duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                   **tags())


if __name__ == "__main__":
    app.run(host=os.environ.get("APP_HOST", "127.0.0.1"),
            port=int(os.environ.get("APP_PORT", "8081")))
