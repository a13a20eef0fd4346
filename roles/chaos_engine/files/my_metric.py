#!/usr/bin/env python3
"""Custom agent check: prints my_metric, a random integer 0-1000, as DogStatsD."""
import random

print("my_metric:%d|g" % random.randint(0, 1000))
