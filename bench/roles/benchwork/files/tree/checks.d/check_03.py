# check 03
from checks import AgentCheck

class Check03(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_03", 3)
