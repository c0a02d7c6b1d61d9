"""The operator's documents stay in step with the code: every metric the connector exports is
in the README's table (and nothing else is), and every `CONNECTOR_*` variable the README, the
Dockerfile and compose.yaml set is a real setting."""

from __future__ import annotations

import re
from pathlib import Path

from connector.metrics import REGISTRY
from connector.settings import environment_names

ROOT = Path(__file__).resolve().parents[2]
#: Named in the README on purpose: a misspelling it refuses, and what Kubernetes injects.
NOT_SETTINGS = {"CONNECTOR_DATABSE__URL", "CONNECTOR_PORT", "CONNECTOR_SERVICE_HOST"}


def test_the_readme_lists_every_metric() -> None:
    exported = {metric.name for metric in REGISTRY.collect()}
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| metric | type |") : readme.index("Example alerts")]
    documented = set(re.findall(r"^\| `(connector_[a-z_]+)` \|", table, re.MULTILINE))
    # prometheus_client names counters without their `_total`.
    assert {name.removesuffix("_total") for name in documented} == exported


def test_every_variable_the_documents_set_is_a_setting() -> None:
    known = environment_names() | {"CONNECTOR_CONFIG"}
    for name in ("README.md", "Dockerfile", "compose.yaml", "config.example.toml"):
        text = (ROOT / name).read_text()
        used = set(re.findall(r"\bCONNECTOR_[A-Z0-9_]*[A-Z0-9]", text))
        assert used - known - NOT_SETTINGS == set(), name
