# check 01
from checks import AgentCheck

class Check01(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_01", 1)
