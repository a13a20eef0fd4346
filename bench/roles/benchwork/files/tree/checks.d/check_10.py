# check 10
from checks import AgentCheck

class Check10(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_10", 10)
