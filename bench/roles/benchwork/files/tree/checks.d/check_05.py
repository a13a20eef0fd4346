# check 05
from checks import AgentCheck

class Check05(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_05", 5)
