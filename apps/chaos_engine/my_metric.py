#!/usr/bin/env python3
"""Custom agent check my_metric: prints one DogStatsD gauge, a random integer
from 0 to 1000. How often it runs is set in my_metric.yaml
(min_collection_interval: 45), not here."""
import random

print("my_metric:%d|g|#source:chaos_engine" % random.randint(0, 1000))
