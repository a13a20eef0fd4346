"""lab-agent's stand-in for the Datadog Agent's datadog_checks package: just
enough of datadog_checks.base for custom checks written as Datadog's docs
write them.  Under the real Agent the real package is used instead."""
