"""The generators produce files the oracle can judge, covering every outcome."""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from pip_oracle import VERDICTS, OracleResult, pip_verdicts
from reqgen import GEN_ENV, populate_cwd, random_file, requirement_files

N_FILES = 300


def _judge(text: str, files: Path, cwd: Path, index: int) -> OracleResult:
    path = files / f"req{index}.txt"
    path.write_bytes(text.encode("utf-8"))  # as-is: line breaks and BOM are the test
    return pip_verdicts(path, cwd=cwd, env=GEN_ENV)


def test_random_files_exercise_every_outcome(tmp_path: Path) -> None:
    files, cwd = tmp_path / "files", tmp_path / "cwd"
    files.mkdir()
    cwd.mkdir()
    populate_cwd(cwd)
    before_cwd, before_env = os.getcwd(), dict(os.environ)

    verdicts: Counter[str] = Counter()
    refused = refused_with_line = 0
    for seed in range(N_FILES):
        text = random_file(random.Random(seed))
        assert text == random_file(random.Random(seed)), "generator is not deterministic"
        result = _judge(text, files, cwd, seed)
        assert isinstance(result, OracleResult)
        verdicts.update(v.verdict for v in result.lines)
        if result.refused is not None:
            refused += 1
            refused_with_line += result.refused_line is not None

    assert (os.getcwd(), dict(os.environ)) == (before_cwd, before_env)
    missing = set(VERDICTS) - set(verdicts)
    assert not missing, f"verdicts never produced: {missing} (got {verdicts})"
    assert set(verdicts) <= set(VERDICTS)
    assert refused > 0 and refused_with_line > 0
    # Most files must still be judged in full, or the differential tests learn little.
    assert refused < N_FILES // 2


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=requirement_files())
def test_strategy_output_is_judged(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cwd").mkdir()
        populate_cwd(root / "cwd")
        result = _judge(text, root, root / "cwd", 0)
    assert all(v.verdict in VERDICTS for v in result.lines)
