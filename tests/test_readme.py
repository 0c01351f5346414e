"""The README's Python example runs as written."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .conftest import ROOT


def test_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert (tmp_path / "delivery" / "photo.jpg").exists()
