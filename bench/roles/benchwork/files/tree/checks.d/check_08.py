# check 08
from checks import AgentCheck

class Check08(AgentCheck):
    def check(self, instance):
        self.gauge("bench.check_08", 8)
