# check 07
from checks import AgentCheck

class Check07(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_07", 7)
