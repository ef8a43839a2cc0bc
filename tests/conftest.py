"""Shared test settings.

In CI (``CI`` set) hypothesis runs derandomized: the same examples every run, so a
red CI means a real regression, not an unlucky draw.  Locally it explores anew
each run and keeps what it finds in its example database.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
