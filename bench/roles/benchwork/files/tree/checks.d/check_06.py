# check 06
from checks import AgentCheck

class Check06(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_06", 6)
