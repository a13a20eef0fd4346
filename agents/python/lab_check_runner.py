#!/usr/bin/env python3
"""Run one custom check of lab-agent once: the Python module checks.d/NAME.py,
written against datadog_checks.base as for the real Datadog Agent.

  lab_check_runner.py MODULE NAME CONFIG [STATE]

CONFIG is JSON: {"init_config": {...} or null, "instance": {...}}.  STATE is
what the previous run printed on its "#state" line (rates and monotonic
counts need the previous sample).  Prints, for lab-agent:

  name:value|g|#tag,...       gauge, rate (per second since the last run),
                              histogram (.avg .max .median .95percentile)
  name:value|c|#tag,...       count, monotonic_count (the increase since the
                              last run; a decrease is a reset: nothing sent),
                              histogram's .count
  _sc|name|status|#tags|m:msg service checks
  #state {...}                last line: what the next run gets as STATE

What the check reported before an exception is printed too; the traceback
goes to stderr and the exit status is 1.
"""
import importlib.util
import inspect
import json
import logging
import os
import sys
import time
import traceback

# no __pycache__ next to the checks or in lab-agent-python/ (labctl manages
# those trees: a byte-code file would be drift)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from datadog_checks.base import AgentCheck  # noqa: E402  (after the path)


def load_check_class(path, name):
    """The AgentCheck subclass the module defines, as the Agent finds it."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError("%s is not a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(1, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    found = [c for _, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, AgentCheck) and c is not AgentCheck]
    own = [c for c in found if c.__module__ == module.__name__]
    if not (own or found):
        raise ImportError("%s defines no subclass of AgentCheck" % path)
    # the most derived one the module defines
    pick = own or found
    return [c for c in pick if not any(o is not c and issubclass(o, c) for o in pick)][0]


def clean_tag(t):
    return t.replace("|", "_").replace(",", "_").replace("\n", " ")


def context(s):
    return "%s|%s" % (s["name"], ",".join(sorted(s["tags"])))


def line(name, value, kind, tags):
    out = "%s:%s|%s" % (name, "%.17g" % value, kind)
    if tags:
        out += "|#" + ",".join(clean_tag(t) for t in tags)
    return out


def render(submitted, prev, now):
    """Lines for what the check submitted, and the new state."""
    out, state = [], {"samples": {}}
    for s in submitted:
        kind, name, value, tags = s["kind"], s["name"], s["value"], s["tags"]
        if kind == "gauge":
            out.append(line(name, value, "g", tags))
        elif kind == "count":
            out.append(line(name, value, "c", tags))
        elif kind in ("rate", "monotonic_count"):
            key = kind + ":" + context(s)
            state["samples"][key] = [value, now]
            last = prev.get("samples", {}).get(key)
            if not last or now <= last[1]:
                continue
            if kind == "rate":
                out.append(line(name, (value - last[0]) / (now - last[1]), "g", tags))
            elif value >= last[0]:
                out.append(line(name, value - last[0], "c", tags))
        elif kind == "histogram":
            for suffix in ("avg", "max", "median", "95percentile"):
                out.append(line("%s.%s" % (name, suffix), value, "g", tags))
            out.append(line(name + ".count", 1, "c", tags))
        elif kind == "service_check":
            sc = "_sc|%s|%d" % (name, value)
            if tags:
                sc += "|#" + ",".join(clean_tag(t) for t in tags)
            if s.get("message"):
                sc += "|m:" + s["message"].replace("\n", "\\n")
            out.append(sc)
    return out, state


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write("usage: lab_check_runner.py MODULE NAME CONFIG [STATE]\n")
        return 2
    path, name, config = argv[1], argv[2], json.loads(argv[3])
    prev = json.loads(argv[4]) if len(argv) == 5 and argv[4] else {}
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    instance = config.get("instance") or {}
    check = None
    status = 0
    # what the check prints is not what it reports: stdout is ours
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        cls = load_check_class(path, name)
        init_config = config.get("init_config") or {}
        params = inspect.signature(cls.__init__).parameters
        if "agentConfig" in params:  # an Agent 5 check, as Agent 6 runs it
            check = cls(name, init_config, {}, [instance])
        else:
            check = cls(name, init_config, [instance])
        check.check(instance)
    except Exception:
        traceback.print_exc()
        status = 1
    finally:
        sys.stdout = out
    lines, state = render(check._submitted if check else [], prev, time.time())
    for text in lines:
        print(text)
    print("#state " + json.dumps(state, sort_keys=True))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
