# check 02
from checks import AgentCheck

class Check02(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_02", 2)
