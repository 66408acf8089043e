"""Validate the pip oracle: the real-world corpus baseline, plus include handling."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from pip._internal.network.session import PipSession
from pip_oracle import OracleResult, pip_verdicts

# A copy of real requirements files from public projects (SOURCES.md says where each came from).
CORPUS = Path(__file__).resolve().parent / "data" / "realworld"

# BASELINE.md's reason names -> oracle verdicts.
_REASONS = {
    "ok": "ok",
    "no-hash": "unhashed",
    "unpinned": "unpinned",
    "editable": "editable",
    "vcs": "vcs",
    "directory": "directory",
}

HASH = "sha256:" + "0" * 64


@dataclass(frozen=True)
class BaselineRow:
    name: str
    req_lines: int
    accepted: int | None
    reasons: dict[str, int]
    pip_error: bool


def _parse_baseline(path: Path) -> list[BaselineRow]:
    rows: list[BaselineRow] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        req_lines = int(cells[1].split()[0])
        accepted = int(cells[2]) if cells[2].isdigit() else None
        reasons: dict[str, int] = {}
        if cells[3] != "—":
            for part in cells[3].split(","):
                reason, count = part.split()
                reasons[_REASONS[reason]] = int(count)
        rows.append(BaselineRow(name, req_lines, accepted, reasons, pip_error=cells[4] != "—"))
    return rows


def _rows() -> list[BaselineRow]:
    try:
        return _parse_baseline(CORPUS / "BASELINE.md")
    except OSError:
        return []


ROWS = _rows()
_INCLUDE_RE = re.compile(rb"\s*(-r|-c|--requirement|--constraint)")


def _copy_without_includes(name: str, dest: Path) -> Path:
    """Copy a corpus file with -r/-c lines blanked, keeping the line numbers."""
    lines = (CORPUS / name).read_bytes().split(b"\n")
    out = dest / name
    out.write_bytes(b"\n".join(b"" if _INCLUDE_RE.match(line) else line for line in lines))
    return out


def _verdicts(result: OracleResult) -> Counter[str]:
    return Counter(v.verdict for v in result.lines)


def _fail_if_no_corpus() -> None:
    if not (CORPUS / "BASELINE.md").is_file():
        pytest.fail(f"real-world corpus not found at {CORPUS}")


def test_corpus_matches_baseline_listing() -> None:
    _fail_if_no_corpus()
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix != ".md"}
    assert on_disk == {row.name for row in ROWS}
    assert len(ROWS) == 46
    assert sum(not row.pip_error for row in ROWS) == 42


_JUDGED = [pytest.param(row, id=row.name) for row in ROWS if not row.pip_error]


@pytest.mark.parametrize("row", _JUDGED or [pytest.param(None, id="corpus-missing")])
def test_judged_file_matches_baseline(row: BaselineRow | None, tmp_path: Path) -> None:
    _fail_if_no_corpus()
    assert row is not None
    empty_cwd = tmp_path / "cwd"
    empty_cwd.mkdir()
    result = pip_verdicts(_copy_without_includes(row.name, tmp_path), cwd=empty_cwd)
    assert result.refused is None
    assert len(result.lines) == row.req_lines
    counts = _verdicts(result)
    assert counts["ok"] == row.accepted
    assert dict(counts) == row.reasons


def test_utf16_with_bom_is_read_like_pip(tmp_path: Path) -> None:
    # BASELINE's own oracle got this wrong (it decoded as UTF-8); pip honours the BOM.
    _fail_if_no_corpus()
    result = pip_verdicts(
        _copy_without_includes("johnson4601__AI_Fitness__requirements.txt", tmp_path)
    )
    assert not result.aborts
    assert len(result.lines) == 51
    assert _verdicts(result) == {"unhashed": 51}


def test_utf16_without_bom_aborts(tmp_path: Path) -> None:
    _fail_if_no_corpus()
    name = "johnson4601__AI_Fitness__requirements.txt@c633277"
    result = pip_verdicts(_copy_without_includes(name, tmp_path))
    # Decoded as UTF-8, every line keeps its NULs: 24 invalid requirements.
    assert result.aborts
    assert result.refused is None
    assert _verdicts(result) == {"invalid": 24}
    assert "Invalid requirement: '\\x00" in result.lines[0].detail


def test_invalid_version_aborts(tmp_path: Path) -> None:
    _fail_if_no_corpus()
    result = pip_verdicts(_copy_without_includes("nikdoof__test-auth__requirements.txt", tmp_path))
    assert result.aborts
    assert len(result.lines) == 18
    [bad] = [v for v in result.lines if v.verdict == "invalid"]
    assert bad.line == 4
    assert "Invalid requirement: 'fabric==dev'" in bad.detail


def test_local_directory_depends_on_cwd(tmp_path: Path) -> None:
    _fail_if_no_corpus()
    path = _copy_without_includes("jax-ml__jax__docs__requirements.txt", tmp_path)
    bare = tmp_path / "bare"
    bare.mkdir()
    result = pip_verdicts(path, cwd=bare)
    assert result.aborts
    [bad] = [v for v in result.lines if v.verdict == "invalid"]
    assert bad.line == 30
    assert "Directory '.[ci]' is not installable" in bad.detail

    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'jax'\nversion = '0'\n")
    result = pip_verdicts(path, cwd=project)
    assert not result.aborts
    assert len(result.lines) == 26
    assert _verdicts(result) == {"unpinned": 23, "unhashed": 2, "directory": 1}


# ---------------------------------------------------------------- includes and refusals


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_includes_are_followed_relative_to_the_including_file(tmp_path: Path) -> None:
    top = _write(
        tmp_path / "a" / "req.txt", f"-r sub/more.txt\n-c cons.txt\nfoo==1.0 --hash={HASH}\n"
    )
    more = _write(tmp_path / "a" / "sub" / "more.txt", "\nbar>=1\n")
    cons = _write(tmp_path / "a" / "cons.txt", "baz[x]==1.0\nqux==2\n")
    result = pip_verdicts(top, cwd=tmp_path)
    assert result.refused is None
    got = [(v.path, v.line, v.verdict, v.constraint) for v in result.lines]
    assert got == [
        (str(more), 2, "unpinned", False),
        (str(cons), 1, "invalid", True),
        (str(cons), 2, "ok", True),
        (str(top), 3, "ok", False),
    ]
    assert result.lines[1].detail == "Constraints cannot have extras"


def test_include_cycle_is_refused_at_the_include_line(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "-r b.txt\n")
    b = _write(tmp_path / "b.txt", "x==1\n\n-r a.txt\n")
    result = pip_verdicts(a)
    assert result.refused is not None
    assert "recursively references itself" in result.refused
    assert (result.refused_path, result.refused_line) == (str(b), 3)
    assert [(v.path, v.line) for v in result.lines] == [(str(b), 1)]


def test_missing_include_is_refused_at_the_include_line(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", "foo==1\n-r nope.txt\nbar==1\n")
    result = pip_verdicts(top)
    assert result.refused is not None
    assert result.refused.startswith("Could not open requirements file")
    assert (result.refused_path, result.refused_line) == (str(top), 2)
    assert [v.line for v in result.lines] == [1]


def test_remote_include_is_refused_without_fetching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the oracle tried to fetch a URL")

    monkeypatch.setattr(PipSession, "request", no_network)
    top = _write(tmp_path / "r.txt", "foo==1\n-c https://example.com/c.txt\n")
    result = pip_verdicts(top)
    assert result.refused is not None
    assert "remote include" in result.refused
    assert (result.refused_path, result.refused_line) == (str(top), 2)


def test_option_error_is_attributed_to_its_logical_line(tmp_path: Path) -> None:
    text = "foo==1\n\\\n# c\nbar==1 \\\n  --hash=md5:abc\nbaz==1\n"
    top = _write(tmp_path / "r.txt", text)
    result = pip_verdicts(top)
    assert result.refused is not None
    assert "Allowed hash algorithms" in result.refused
    assert (result.refused_path, result.refused_line) == (str(top), 4)
    assert [v.line for v in result.lines] == [1]


def test_option_callback_command_error(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", "foo==1\n--no-binary -x\n")
    result = pip_verdicts(top)
    assert result.refused == "--no-binary / --only-binary option requires 1 argument."
    assert result.refused_line == 2


def test_no_require_hashes_conflicts_with_the_command_line_flag(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", "foo==1\n--no-require-hashes\n")
    result = pip_verdicts(top)
    assert result.refused == "--require-hashes and --no-require-hashes are mutually exclusive"
    assert result.refused_line == 2
    assert pip_verdicts(top, cli_require_hashes=False).refused is None
    both = _write(tmp_path / "both.txt", "--no-require-hashes\nfoo==1\n--require-hashes\n")
    assert pip_verdicts(both, cli_require_hashes=False).refused_line == 3


def test_undecodable_file_is_refused_without_a_line(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", "# -*- coding: ascii -*-\n# café\nfoo==1\n")
    result = pip_verdicts(top)
    assert result.refused is not None
    assert result.refused.startswith("UnicodeDecodeError")
    assert (result.refused_path, result.refused_line) == (str(top), None)


def test_hashes_make_a_named_requirement_pinned_in_pip_26_3(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", f"foo>=1 --hash={HASH}\nfoo==1.*\nbar\n")
    assert [v.verdict for v in pip_verdicts(top).lines] == ["ok", "unhashed", "unpinned"]
    strict = pip_verdicts(top, strict_pins=True)
    assert [v.verdict for v in strict.lines] == ["unpinned", "unhashed", "unpinned"]


def test_cwd_and_env_are_applied_then_restored(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    _write(project / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\nversion = '1'\n")
    top = _write(tmp_path / "r.txt", "./pkg\nfoo==${HASHPIN_ORACLE_V}\n")
    before_cwd, before_env = os.getcwd(), dict(os.environ)
    result = pip_verdicts(top, cwd=project, env={"HASHPIN_ORACLE_V": "1.0"})
    assert [v.verdict for v in result.lines] == ["directory", "unhashed"]
    assert (os.getcwd(), dict(os.environ)) == (before_cwd, before_env)
    # Without the variable the reference stays literal: an invalid version.
    assert [v.verdict for v in pip_verdicts(top, cwd=project).lines] == ["directory", "invalid"]


def test_errors_inside_an_included_file_point_into_it(tmp_path: Path) -> None:
    top = _write(tmp_path / "r.txt", "a==1\n-r sub/b.txt\nz==1\n")
    sub = _write(tmp_path / "sub" / "b.txt", "b==1\n\nb2==1 --foo\n")
    result = pip_verdicts(top)
    assert result.refused is not None
    assert "no such option: --foo" in result.refused
    assert (result.refused_path, result.refused_line) == (str(sub), 3)
    assert [(v.path, v.line) for v in result.lines] == [(str(top), 1), (str(sub), 1)]


def test_file_url_include_reports_the_real_path(tmp_path: Path) -> None:
    sub = _write(tmp_path / "sub" / "c.txt", "c==1\n")
    top = _write(tmp_path / "r.txt", f"-r {sub.as_uri()}\n")
    assert [(v.path, v.line) for v in pip_verdicts(top).lines] == [(str(sub), 1)]
