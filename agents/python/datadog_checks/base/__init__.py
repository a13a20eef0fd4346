"""datadog_checks.base for lab-agent: AgentCheck, as a custom check uses it.

A check subclasses AgentCheck and implements check(instance); it reports
with gauge, count, monotonic_count, rate, increment/decrement, histogram
and service_check, logs with self.log, and reads self.instance,
self.instances and self.init_config.  lab_check_runner.py runs it once per
collection and hands what it reported to lab-agent.  The same file runs
unchanged under the real Datadog Agent.
"""
import logging

from .errors import CheckException, ConfigurationError

__all__ = ["AgentCheck", "CheckException", "ConfigurationError", "ServiceCheck"]


class ServiceCheck(object):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class AgentCheck(object):
    """The base class of every check."""

    OK, WARNING, CRITICAL, UNKNOWN = (ServiceCheck.OK, ServiceCheck.WARNING,
                                      ServiceCheck.CRITICAL, ServiceCheck.UNKNOWN)
    # a check may set it: every metric and service check name gets
    # "NAMESPACE." in front (unless submitted with raw=True)
    __NAMESPACE__ = ""

    def __init__(self, *args, **kwargs):
        # AgentCheck(name, init_config, instances), as Agent 6 and 7 call
        # it, or the Agent 5 form AgentCheck(name, init_config, agentConfig,
        # instances); keywords work too.
        name = kwargs.get("name", args[0] if len(args) > 0 else None)
        init_config = kwargs.get("init_config", args[1] if len(args) > 1 else None)
        if len(args) > 3:
            instances = args[3]
        else:
            instances = kwargs.get("instances", args[2] if len(args) > 2 else None)
        self.name = name or self.__class__.__name__
        self.init_config = init_config or {}
        self.instances = list(instances or [])
        self.instance = self.instances[0] if self.instances else None
        self.check_id = ""
        self.log = logging.getLogger("checks.%s" % self.name)
        self._submitted = []

    # -- what a check implements ----------------------------------------
    def check(self, instance):
        raise NotImplementedError("a check implements check(self, instance)")

    # -- what it reports -------------------------------------------------
    def _name(self, name, raw):
        if not isinstance(name, str) or not name:
            raise TypeError("a metric name is a non-empty string, not %r" % (name,))
        if self.__NAMESPACE__ and not raw:
            return "%s.%s" % (self.__NAMESPACE__, name)
        return name

    def _submit(self, kind, name, value, tags, hostname, raw=False):
        name = self._name(name, raw)
        if isinstance(value, bool):
            value = int(value)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError("metric %s: value %r is not a number" % (name, value))
        self._submitted.append({
            "kind": kind, "name": name, "value": value,
            "tags": _tags(tags, name), "hostname": hostname,
        })

    def gauge(self, name, value, tags=None, hostname=None, device_name=None, raw=False):
        self._submit("gauge", name, value, _device(tags, device_name), hostname, raw)

    def count(self, name, value, tags=None, hostname=None, device_name=None, raw=False):
        self._submit("count", name, value, _device(tags, device_name), hostname, raw)

    def monotonic_count(self, name, value, tags=None, hostname=None, device_name=None,
                        raw=False):
        self._submit("monotonic_count", name, value, _device(tags, device_name), hostname, raw)

    def rate(self, name, value, tags=None, hostname=None, device_name=None, raw=False):
        self._submit("rate", name, value, _device(tags, device_name), hostname, raw)

    def histogram(self, name, value, tags=None, hostname=None, device_name=None, raw=False):
        self._submit("histogram", name, value, _device(tags, device_name), hostname, raw)

    def increment(self, name, value=1, tags=None, hostname=None, device_name=None):
        self.count(name, value, tags, hostname, device_name)

    def decrement(self, name, value=-1, tags=None, hostname=None, device_name=None):
        self.count(name, value, tags, hostname, device_name)

    def service_check(self, name, status, tags=None, hostname=None, message=None, raw=False):
        if status not in (self.OK, self.WARNING, self.CRITICAL, self.UNKNOWN):
            raise ValueError("service check %s: status %r is not one of OK, WARNING, "
                             "CRITICAL, UNKNOWN (0-3)" % (name, status))
        self._submitted.append({
            "kind": "service_check", "name": self._name(name, raw), "value": int(status),
            "tags": _tags(tags, name), "hostname": hostname,
            "message": "" if message is None else str(message),
        })

    def event(self, event):
        """Events are not collected by lab-agent: logged, then dropped."""
        self.log.debug("event not sent (lab-agent collects no events): %r", event)


def _device(tags, device_name):
    if isinstance(tags, (str, bytes)):
        raise TypeError("tags are a list of strings, not the string %r" % (tags,))
    tags = list(tags or [])
    if device_name:
        tags.append("device:%s" % device_name)
    return tags


def _tags(tags, name):
    if tags is None:
        return []
    if isinstance(tags, str) or not hasattr(tags, "__iter__"):
        raise TypeError("%s: tags are a list of strings, not %r" % (name, tags))
    out = []
    for t in tags:
        if isinstance(t, bytes):
            t = t.decode("utf-8", "replace")
        if not isinstance(t, str):
            raise TypeError("%s: tag %r is not a string" % (name, t))
        out.append(t)
    return out
