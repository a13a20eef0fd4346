"""Unit tests of lab-agent's Python check support (agents/python): the
datadog_checks.base stand-in and lab_check_runner.py, with checks written
the way Datadog's documentation writes them.  Run by ctest as
unit/test_check_runner."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.environ.get("LAB_AGENT_PYTHON_DIR",
                       os.path.join(HERE, "..", "..", "agents", "python"))
RUNNER = os.path.join(PYDIR, "lab_check_runner.py")
sys.dont_write_bytecode = True
sys.path.insert(0, PYDIR)

from datadog_checks.base import AgentCheck  # noqa: E402
from datadog_checks.base.errors import ConfigurationError  # noqa: E402


def run(module_text, instance=None, init_config=None, state=""):
    """Run the module as checks.d/NAME.py: (status, stdout lines, stderr)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mine.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(module_text))
        config = json.dumps({"init_config": init_config, "instance": instance or {}})
        p = subprocess.run([sys.executable, RUNNER, path, "mine", config, state],
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout.splitlines(), p.stderr


class DocsChecks(unittest.TestCase):
    def test_hello_world(self):
        # docs.datadoghq.com: "Writing a custom Agent check"
        rc, out, err = run('''
            try:
                # first, try to import the base class from new versions of the Agent...
                from datadog_checks.base import AgentCheck
            except ImportError:
                # ...if the above failed, the check is running in Agent version < 6.6.0
                from checks import AgentCheck

            # content of the special variable __version__ will be shown in the Agent status page
            __version__ = "1.0.0"

            class HelloCheck(AgentCheck):
                def check(self, instance):
                    self.gauge('hello.world', 1, tags=['TAG_KEY:TAG_VALUE'] + self.instance.get('tags', []))
            ''', instance={"tags": ["env:dev"]})
        self.assertEqual(rc, 0, err)
        self.assertEqual(out[0], "hello.world:1|g|#TAG_KEY:TAG_VALUE,env:dev")
        self.assertTrue(out[-1].startswith("#state "))

    def test_init_override_and_log(self):
        rc, out, err = run('''
            from datadog_checks.base import AgentCheck

            class HTTPCheck(AgentCheck):
                def __init__(self, name, init_config, instances):
                    super(HTTPCheck, self).__init__(name, init_config, instances)
                    self.url = self.instance.get("url")
                    self.timeout = self.init_config.get("default_timeout", 5)

                def check(self, instance):
                    self.log.info("checking %s", self.url)
                    print("a print is not a metric")
                    self.gauge("http.timeout", self.timeout, tags=["url:" + self.url])
            ''', instance={"url": "http://127.0.0.1/"}, init_config={"default_timeout": 3})
        self.assertEqual(rc, 0, err)
        self.assertEqual(out[:-1], ["http.timeout:3|g|#url:http://127.0.0.1/"])
        self.assertIn("checking http://127.0.0.1/", err)
        self.assertIn("a print is not a metric", err)

    def test_agent5_signature(self):
        rc, out, err = run('''
            from checks import AgentCheck  # falls back only on Agent 5
            ''')
        self.assertEqual(rc, 1)
        rc, out, err = run('''
            from datadog_checks.base import AgentCheck

            class Old(AgentCheck):
                def __init__(self, name, init_config, agentConfig, instances=None):
                    AgentCheck.__init__(self, name, init_config, agentConfig, instances)

                def check(self, instance):
                    self.gauge("old.value", instance["v"])
            ''', instance={"v": 2})
        self.assertEqual(rc, 0, err)
        self.assertEqual(out[0], "old.value:2|g")

    def test_counters_across_runs(self):
        module = '''
            from datadog_checks.base import AgentCheck

            class Counter(AgentCheck):
                __NAMESPACE__ = "lab"

                def check(self, instance):
                    self.monotonic_count("requests", instance["n"], tags=["a:b"])
                    self.rate("bytes", instance["n"] * 10)
                    self.count("runs", 1)
                    self.service_check("up", self.OK, tags=["a:b"], message="line one\\nline two")
            '''
        rc, out, err = run(module, instance={"n": 100})
        self.assertEqual(rc, 0, err)
        self.assertEqual(out[:-1], ["lab.runs:1|c", "_sc|lab.up|0|#a:b|m:line one\\nline two"])
        state = out[-1][len("#state "):]
        rc, out, err = run(module, instance={"n": 130}, state=state)
        self.assertEqual(out[0], "lab.requests:30|c|#a:b")
        self.assertTrue(out[1].startswith("lab.bytes:"), out)
        self.assertGreater(float(out[1].split(":")[1].split("|")[0]), 0)
        # a counter that went down was reset: nothing for it
        state = out[-1][len("#state "):]
        rc, out, err = run(module, instance={"n": 5}, state=state)
        self.assertFalse([x for x in out if x.startswith("lab.requests:")], out)

    def test_exception_keeps_what_was_reported(self):
        rc, out, err = run('''
            from datadog_checks.base import AgentCheck, ConfigurationError

            class Strict(AgentCheck):
                def check(self, instance):
                    self.gauge("seen", 1)
                    if "host" not in instance:
                        raise ConfigurationError("host is required")
            ''')
        self.assertEqual(rc, 1)
        self.assertEqual(out[0], "seen:1|g")
        self.assertEqual(err.strip().splitlines()[-1],
                         "datadog_checks.base.errors.ConfigurationError: host is required")

    def test_no_check_class(self):
        rc, out, err = run("x = 1\n")
        self.assertEqual(rc, 1)
        self.assertIn("defines no subclass of AgentCheck", err)
        self.assertEqual(out, ['#state {"samples": {}}'])


class TheBaseClass(unittest.TestCase):
    def check(self):
        return AgentCheck("t", {}, [{"k": "v"}])

    def test_instance_and_names(self):
        c = self.check()
        self.assertEqual(c.instance, {"k": "v"})
        self.assertEqual(c.instances, [{"k": "v"}])
        self.assertEqual(c.name, "t")
        with self.assertRaises(NotImplementedError):
            c.check(c.instance)

    def test_bad_values_raise(self):
        c = self.check()
        with self.assertRaises(TypeError):
            c.gauge("x", "not a number")
        with self.assertRaises(TypeError):
            c.gauge("x", 1, tags="a:b")  # a string is not a list of tags
        with self.assertRaises(TypeError):
            c.gauge("", 1)
        with self.assertRaises(ValueError):
            c.service_check("x", 7)
        self.assertEqual(c._submitted, [])

    def test_histogram_and_device(self):
        c = self.check()
        c.histogram("lat", 2, device_name="sda")
        c.decrement("q")
        self.assertEqual(c._submitted[0]["tags"], ["device:sda"])
        self.assertEqual(c._submitted[1]["value"], -1.0)
        self.assertTrue(issubclass(ConfigurationError, Exception))


if __name__ == "__main__":
    unittest.main()
