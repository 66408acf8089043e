"""A project listed more than once: hashpin's verdict against real pip's, file by file.

Each case is a requirements file run through real pip 26.3 in its own process,
``pip install --dry-run --no-index --find-links wheels --require-hashes --no-deps -r FILE``,
over wheels built here (tests/distmaker.py), and through ``hashpin check``: hashpin must
exit 1 exactly when pip refuses the file, with the findings listed.

What pip does with repeats (pip/_internal/resolution/resolvelib/factory.py): every direct
URL is its own candidate, prepared, so hash-checked, with its own line's hashes as soon as
the requirements are collected (one already seen is the same candidate); requirements by
name are merged and the candidate found for them is prepared with the hashes of the first
line fed to the resolver (``name[extra]`` lines without a version clause are fed last), and
none is looked for once a direct URL of the project is there; a line no candidate satisfies
together with another is a ResolutionImpossible. Markers decide which lines take part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from distmaker import make_wheel
from indexserver import sealed_environment
from pip_oracle import pip_verdicts

from hashpin.cli import main

DEMO = make_wheel("demo", "1.0")
DEMO_2 = make_wheel("demo", "2.0")
FLASK = make_wheel("flask", "1.0")
D1 = f"--hash=sha256:{DEMO.sha256}"
D2 = f"--hash=sha256:{DEMO_2.sha256}"
F1 = f"--hash=sha256:{FLASK.sha256}"
DEMO_WHEEL = "demo-1.0-py3-none-any.whl"
FLASK_WHEEL = "flask-1.0-py3-none-any.whl"

Findings = list[tuple[int, str]]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the same wheels in ``wheels/`` (the index) and ``mirror/``."""
    for folder in ("wheels", "mirror"):
        (tmp_path / folder).mkdir()
        for dist in (DEMO, DEMO_2, FLASK):
            dist.write_to(tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pip_refuses(work: Path, text: str, find_links: str = "wheels") -> bool:
    (work / "requirements.txt").write_text(text)
    env = sealed_environment(os.environ, work)
    env.update(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
            "--find-links", find_links, "--require-hashes", "--no-deps", "--ignore-installed",
            "-r", "requirements.txt",
        ],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 1


def hashpin(
    work: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, Findings, list[str]]:
    (work / "requirements.txt").write_text(text)
    capsys.readouterr()
    code = main(["check", "--isolated", "--format", "json", "requirements.txt"])
    document = json.loads(capsys.readouterr().out)
    findings = [f for entry in document["files"] for f in entry["findings"]]
    return code, [(f["line"], f["code"]) for f in findings], [f["message"] for f in findings]


# (id, file, pip refuses it, hashpin's findings)
CASES = [
    # The rows of the table hashpin got wrong.
    ("named-then-unhashed-url", f"demo==1.0 {D1}\n./mirror/{DEMO_WHEEL}\n", True, [(2, "HP002")]),
    (
        "hashed-url-then-unhashed-url",
        f"./wheels/{DEMO_WHEEL} {D1}\n./mirror/{DEMO_WHEEL}\n",
        True,
        [(2, "HP002"), (2, "HP000")],  # and a second candidate is a conflict too
    ),
    (
        "extras-line-then-plain-unhashed",
        f"flask[security] {F1}  # hashpin: ignore[HP001]\nflask==1.0\n",
        True,
        [(1, "HP104"), (1, "HP108"), (2, "HP002")],
    ),
    (
        "repeat-under-a-marker-that-implies-none",
        f'demo==1.0 {D1}\ndemo==1.0 ; python_version >= "3.8"\n',
        False,
        [(2, "HP104")],
    ),
    (
        "marker-spelled-otherwise",
        f"demo==1.0 ; python_version >= \"3.8\" {D1}\ndemo==1.0 ; python_version>='3.8'\n",
        False,
        [(2, "HP104")],
    ),
    (
        "extras-line-then-hashed-pin",
        f"flask[security]\nflask==1.0 {F1}\n",
        False,
        [(1, "HP104")],
    ),
    # More of the same rules.
    (
        "same-url-twice",
        f"./wheels/{DEMO_WHEEL} {D1}\n./wheels/{DEMO_WHEEL}\n",
        False,
        [(2, "HP104")],
    ),
    (
        "same-path-spelled-twice",
        f"./wheels/{DEMO_WHEEL} {D1}\nwheels/{DEMO_WHEEL}\n",
        False,
        [(2, "HP104")],
    ),
    (
        "two-hashed-urls-are-two-candidates",
        f"./wheels/{DEMO_WHEEL} {D1}\n./mirror/{DEMO_WHEEL} {D1}\n",
        True,
        [(2, "HP000")],
    ),
    ("two-pins", f"demo==1.0 {D1}\ndemo==2.0 {D2}\n", True, [(2, "HP000")]),
    ("later-line-excludes-the-pin", f"demo==1.0 {D1}\ndemo>=2\n", True, [(2, "HP000")]),
    ("named-excludes-the-url", f"./wheels/{DEMO_WHEEL} {D1}\ndemo==2.0\n", True, [(2, "HP000")]),
    ("url-then-range", f"./wheels/{DEMO_WHEEL} {D1}\ndemo>=0.5\n", False, [(2, "HP104")]),
    (
        "exclusive-markers-are-no-conflict",
        f"demo==1.0 ; python_version < '3.9' {D1}\ndemo==2.0 ; python_version >= '3.9' {D2}\n",
        False,
        [],
    ),
    (
        "first-line-false-here-so-second-is-checked",
        f'demo==1.0 ; python_version < "3.0" {D1}\ndemo==1.0\n',
        True,
        [(2, "HP002")],
    ),
    (
        "unpinned-first-is-the-one-checked",
        f"demo>=0.5\ndemo==1.0 {D1}\n",
        True,
        [(1, "HP001"), (1, "HP002"), (2, "HP104")],
    ),
    (
        "extras-line-then-url",
        f"flask[security]\n./mirror/{FLASK_WHEEL} {F1}\n",
        False,
        [(1, "HP104")],
    ),
    (
        "extras-with-a-pin-is-fed-first",
        f"flask[security]==1.0\n./mirror/{FLASK_WHEEL} {F1}\n",
        True,
        [(1, "HP002")],
    ),
    (
        "first-extras-line-is-checked",
        f"flask[a]\nflask[b] {F1}\n",
        True,
        [(1, "HP001"), (1, "HP002"), (2, "HP104")],
    ),
    (
        "extras-line-then-pinned-extras",
        f"flask[a]\nflask[b]==1.0 {F1}\n",
        False,
        [(1, "HP104")],
    ),
    # The two single-line verdicts.
    ("equal-clauses-collapse", f"demo==1.0,==1.0 {D1}\n", False, []),
    ("equal-versions-collapse", "demo==1.0,==1.00\n", True, [(1, "HP002")]),
]


@pytest.mark.parametrize(
    ("text", "refused", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hashpin_fails_exactly_when_pip_refuses(
    work: Path, capsys: pytest.CaptureFixture[str], text: str, refused: bool, expected: Findings
) -> None:
    assert pip_refuses(work, text) is refused
    code, findings, _ = hashpin(work, text, capsys)
    assert (code, findings) == (1 if refused else 0, expected)


def test_a_conflict_says_which_lines(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, messages = hashpin(work, f"demo==1.0 {D1}\n\ndemo>=2\n", capsys)
    assert messages == [
        "demo>=2 conflicts with demo==1.0 on line 1: no candidate satisfies both, "
        "so pip's resolver refuses the install"
    ]


def test_the_oracle_sees_the_conflicts_pip_refuses(work: Path) -> None:
    # test_differential leans on the oracle for repeats it generates: its model of a
    # resolver conflict must be pip's.
    for _, text, refused, expected in CASES:
        if (2, "HP000") not in expected:
            continue
        path = work / "requirements.txt"
        path.write_text(text)
        verdicts = pip_verdicts(path, cwd=work)
        assert [v.line for v in verdicts.lines if v.detail.startswith("ResolutionImpossible")] == [
            2
        ]
        assert refused and pip_refuses(work, text)


def test_a_constraint_url_fixes_the_artifact(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = (work / "mirror" / DEMO_WHEEL).as_uri()
    (work / "constraints.txt").write_text(f"demo @ {url}\n")
    text = f"-c constraints.txt\ndemo {D1}\n"
    assert not pip_refuses(work, text)
    assert hashpin(work, text, capsys)[:2] == (0, [])
    # Unhashed, it is refused; with the hash in the constraint's URL, it is not.
    assert pip_refuses(work, "-c constraints.txt\ndemo\n")
    assert hashpin(work, "-c constraints.txt\ndemo\n", capsys)[:2] == (1, [(2, "HP002")])
    (work / "constraints.txt").write_text(f"demo @ {url}#sha256={DEMO.sha256}\n")
    assert not pip_refuses(work, "-c constraints.txt\ndemo\n")
    assert hashpin(work, "-c constraints.txt\ndemo\n", capsys)[:2] == (0, [])


def test_a_named_line_before_a_url_is_checked(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where hashpin is stricter than pip: ``demo==1.0`` then a hashed direct URL.

    pip looks for the named line's candidate on the index before it sees the URL line
    (the URL's candidate comes in only once its line is fed), and prepares it with the
    named line's hashes. Only when the index serves that very file is the candidate the
    URL's, already checked: the index is not in the file, so hashpin cannot know.
    """
    text = f"demo==1.0\n./wheels/{DEMO_WHEEL} {D1}\n"
    assert not pip_refuses(work, text, find_links="wheels")  # the index's file is the URL's
    assert pip_refuses(work, text, find_links="mirror")  # the same bytes, another file
    assert hashpin(work, text, capsys)[:2] == (1, [(1, "HP002")])
    # The other way round, the URL is there first and no index is asked.
    text = f"./wheels/{DEMO_WHEEL} {D1}\ndemo==1.0\n"
    assert not pip_refuses(work, text, find_links="mirror")
    assert hashpin(work, text, capsys)[:2] == (0, [(2, "HP104")])


def test_repeats_across_included_files(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "base.txt").write_text("flask[security]\n")
    text = f"-r base.txt\nflask==1.0 {F1}\n"
    assert not pip_refuses(work, text)
    (work / "requirements.txt").write_text(text)
    capsys.readouterr()
    assert main(["check", "--isolated", "--format", "json", "requirements.txt"]) == 0
    files = {e["path"]: e["findings"] for e in json.loads(capsys.readouterr().out)["files"]}
    assert [(f["line"], f["code"], f["message"]) for f in files["base.txt"]] == [
        (
            1,
            "HP104",
            "flask is listed again on requirements.txt:2: pip checks that line's pin and "
            "hashes, not this one's",
        )
    ]


def test_markers_are_read_only_for_repeats_with_markers(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"demo==1.0 {D1}\ndemo==1.0 {D1}\nflask==1.0 {F1}\n")
    probe = (
        "import sys\nfrom hashpin.cli import main\n"
        f"main(['check', '--isolated', {str(path)!r}])\n"
        "print(sorted(m for m in sys.modules if m.startswith('packaging.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
