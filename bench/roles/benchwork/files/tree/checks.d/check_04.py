# check 04
from checks import AgentCheck

class Check04(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_04", 4)
