"""The README says what the repository does: its test command is CI's, its module table the SDK's files."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_the_readme_test_command_is_what_ci_runs():
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("python3 -m venv")]
    block = README[README.index("## Tests"):]
    readme = [line for line in block.splitlines() if line.startswith("python3 -m venv")][:1]
    assert ci == readme and len(ci) == 1


def test_the_module_table_lists_every_sdk_module_with_its_line_count():
    rows = dict(re.findall(r"^\| `([a-z_]+\.py)` \| .+ \| (\d+) \|$", README, flags=re.MULTILINE))
    modules = {path.name: len(path.read_text().splitlines())
               for path in (REPO / "sdk" / "denseface").glob("*.py") if path.name != "__init__.py"}
    assert {name: int(count) for name, count in rows.items()} == modules
