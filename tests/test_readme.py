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


def test_check_api_reports_like_the_cli(tmp_path: Path) -> None:
    import aidisclose

    from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

    aidisclose.stamp(FIXTURES / "images" / "photo.jpg", aidisclose.load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    report = aidisclose.check_files(tmp_path, policy=["genai-production", "ca-sb942"])
    assert (report.summary.files, report.summary.passed, report.exit_code) == (1, 1, 0)
    cli = run_cli("check", tmp_path, "-p", "genai-production", "-p", "ca-sb942", "-f", "json").json()
    assert [r["rule"] for r in cli["files"][0]["results"]] == [r.rule for r in report.files[0].results]
