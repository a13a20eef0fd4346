# check 09
from checks import AgentCheck

class Check09(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_09", 9)
