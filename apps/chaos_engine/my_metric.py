"""The custom agent check my_metric: a random integer from 0 to 1000, as a
gauge.  A check as Datadog's docs write one, so the same file runs under the
real Datadog Agent and under lab-agent (which provides datadog_checks.base).
How often it runs is set in its config file (min_collection_interval: 45),
not here."""
import random

try:
    from datadog_checks.base import AgentCheck
except ImportError:  # Agent 5 and older 6.x
    from checks import AgentCheck

__version__ = "1.0.0"


class MyMetricCheck(AgentCheck):
    def check(self, instance):
        tags = ["source:chaos_engine"] + list(instance.get("tags", []))
        self.gauge("my_metric", random.randint(0, 1000), tags=tags)
