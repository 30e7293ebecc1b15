"""Hypothesis settings for the whole suite: the "ci" profile when the CI environment variable is set, "dev"
otherwise.

Both explore: every run draws new examples (no `derandomize`), so a run can find what earlier runs
missed. A failure stays reproducible: "ci" prints the `@reproduce_failure` blob of the shrunk example
(CI keeps no example database), and a failure Hypothesis cannot replay names its `--hypothesis-seed`.

Neither profile has a deadline or the too-slow health check. Both fail a test because the machine was
busy at that moment, not because of the code, and a rerun does not reproduce them; tests that want a
time limit say so themselves.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# On top of Hypothesis' own "default": its built-in "ci" profile, which it loads by itself when it sees a CI
# environment variable, derandomizes.
settings.register_profile(
    "dev", settings.get_profile("default"), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("dev"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
