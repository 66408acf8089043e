"""The rules, table-driven through the real command line, and the output formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hashpin.cli import main
from hashpin.rules import RULES

H1 = "a" * 64
H2 = "b" * 64


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["check", "--isolated", *argv])
    return code, capsys.readouterr().out


def codes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    extra_files: dict[str, str] | None = None,
) -> list[tuple[int, str]]:
    for name, content in (extra_files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    target = tmp_path / "requirements.txt"
    target.write_text(text)
    _, out = run(capsys, "--format", "json", str(target))
    document = json.loads(out)
    return [
        (finding["line"], finding["code"])
        for entry in document["files"]
        if entry["path"] == str(target)
        for finding in entry["findings"]
    ]


CASES = [
    # (description, file text, expected (line, code) findings)
    ("pinned and hashed", f"requests==2.31.0 --hash=sha256:{H1}\n", []),
    ("unhashed", "requests==2.31.0\n", [(1, "HP002")]),
    ("unpinned", "requests>=2\n", [(1, "HP001"), (1, "HP002")]),
    ("unpinned with hash", f"requests>=2 --hash=sha256:{H1}\n", [(1, "HP001")]),
    ("arbitrary equality pins", f"requests===2.31.0 --hash=sha256:{H1}\n", []),
    ("wildcard", f"requests==2.* --hash=sha256:{H1}\n", [(1, "HP101")]),
    ("two clauses are not a pin", f"a>=1,<2 --hash=sha256:{H1}\n", [(1, "HP001")]),
    ("editable", "-e .\n", [(1, "HP003")]),
    ("editable with hash", f"-e . --hash=sha256:{H1}\n", [(1, "HP102"), (1, "HP003")]),
    ("vcs", "pkg @ git+https://example.com/r.git@abc\n", [(1, "HP004")]),
    ("bare vcs", "git+https://example.com/r.git#egg=pkg\n", [(1, "HP004")]),
    ("directory", "./src/pkg\n", [(1, "HP005")]),
    ("directory with extras", ".[ci]\n", [(1, "HP005")]),
    ("url without hash", "https://example.com/pkg-1.0.tar.gz\n", [(1, "HP002")]),
    ("url with fragment hash", f"https://example.com/pkg-1.0.tar.gz#sha256={H1}\n", []),
    ("url with md5 only", "https://example.com/p-1.0.tar.gz#md5=" + "c" * 32 + "\n", [(1, "HP106")]),
    (
        "named url with hash",
        f"pkg @ https://example.com/pkg-1.0-py3-none-any.whl --hash=sha256:{H1}\n",
        [],
    ),
    ("malformed digest", "a==1 --hash=sha256:xyz\n", [(1, "HP006")]),
    ("short digest", "a==1 --hash=sha256:" + "a" * 63 + "\n", [(1, "HP006")]),
    ("malformed digest on a continuation line", "a==1 \\\n    --hash=sha256:xyz\n", [(1, "HP006")]),
    ("md5 option refuses the file", "a==1 --hash=md5:" + "a" * 32 + "\n", [(1, "HP000")]),
    ("unknown option", "a==1\n--frobnicate\n", [(1, "HP002"), (2, "HP000")]),
    ("invalid requirement", "fabric==dev\n", [(1, "HP000")]),
    ("invalid wheel filename", "https://example.com/notawheel.whl\n", [(1, "HP000")]),
    ("hash on option line", f"--hash=sha256:{H1}\n", [(1, "HP102")]),
    ("hash inside a comment", f"a==1 # pinned \\\n    --hash=sha256:{H1}\n", [(1, "HP102"), (1, "HP002")]),
    ("marker after hash", f'a==1 --hash=sha256:{H1} ; python_version<"3"\n', [(1, "HP103")]),
    ("requirement after option", "--pre requests==1\n", [(1, "HP103")]),
    ("index option on requirement line", f"a==1 --hash=sha256:{H1} -i https://x/simple\n", [(1, "HP103")]),
    ("duplicate", f"a==1 --hash=sha256:{H1}\na==1\n", [(2, "HP104")]),
    ("duplicate under other marker", f"a==1 ; sys_platform == 'linux' --hash=sha256:{H1}\na==1\n", [(2, "HP002")]),
    ("insecure index", "--index-url http://pypi.example.com/simple\n", [(1, "HP105")]),
    ("local index is fine", "--index-url http://127.0.0.1:8080/simple\n", []),
    ("both hash modes", "--require-hashes\n--no-require-hashes\n", [(2, "HP000")]),
    ("continuation lines", f"a==1 \\\n    --hash=sha256:{H1} \\\n    --hash=sha256:{H2}\n", []),
    ("first line numbers", f"\n# c\na==1 \\\n  --hash=sha256:{H1}\nb==2\n", [(5, "HP002")]),
    ("suppression", "-e .  # hashpin: ignore[HP003]\n", []),
    ("suppression by name", "-e .  # hashpin: ignore[editable]\n", []),
    ("unused suppression", f"a==1 --hash=sha256:{H1}  # hashpin: ignore[HP003]\n", [(1, "HP108")]),
    ("env var left alone", "${HASHPIN_UNSET_VAR}==1\n", [(1, "HP000")]),
    ("remote include", "-r https://example.com/r.txt\n", [(1, "HP107")]),
    ("missing include", "-r nope.txt\n", [(1, "HP000")]),
    ("per-line no-binary is honoured", f"a==1 --hash=sha256:{H1} --no-binary a\n", []),
    ("nul bytes", "a\x00b\n", [(1, "HP000")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: list[tuple[int, str]],
) -> None:
    assert codes(tmp_path, capsys, text) == expected


def test_constraints_need_neither_pins_nor_hashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = codes(
        tmp_path,
        capsys,
        f"-c constraints.txt\nrequests --hash=sha256:{H1}\n",
        {"constraints.txt": "requests==2.31.0\nurllib3<3\n"},
    )
    assert found == []  # the pin of requests comes from the constraints file


def test_constraint_problems_are_reported_in_the_constraints_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.txt").write_text("requests[socks]==2.31.0\nhttps://example.com/x.tar.gz\n")
    (tmp_path / "requirements.txt").write_text("-c c.txt\n")
    _, out = run(capsys, "--format", "json", str(tmp_path / "requirements.txt"))
    files = {entry["path"]: entry["findings"] for entry in json.loads(out)["files"]}
    assert [(f["line"], f["code"]) for f in files[str(tmp_path / "c.txt")]] == [
        (1, "HP000"),
        (2, "HP000"),
    ]


def test_include_cycle_and_diamond(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("-r ../requirements.txt\n-r b.txt\n")
    (tmp_path / "sub" / "b.txt").write_text("x==1\n")
    (tmp_path / "requirements.txt").write_text("-r sub/a.txt\n-r sub/b.txt\n")
    _, out = run(capsys, "--format", "json", str(tmp_path / "requirements.txt"))
    files = {entry["path"]: entry["findings"] for entry in json.loads(out)["files"]}
    root = str(tmp_path / "requirements.txt")
    a = os.path.join(str(tmp_path), "sub/a.txt")
    b = os.path.join(str(tmp_path), "sub/b.txt")
    assert list(files) == [root, a, b]  # b is reached twice and checked once
    assert [(f["line"], f["code"]) for f in files[a]] == [(1, "HP000")]
    assert "include cycle" in files[a][0]["message"]
    assert [(f["line"], f["code"]) for f in files[b]] == [(1, "HP002")]


def test_deeply_nested_includes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    depth = 3000
    for level in range(depth):
        (tmp_path / f"r{level}.txt").write_text(f"-r r{level + 1}.txt\n")
    (tmp_path / f"r{depth}.txt").write_text("x==1\n")
    code, out = run(capsys, "--format", "json", str(tmp_path / "r0.txt"))
    document = json.loads(out)
    assert code == 1
    assert document["summary"] == {"files": depth + 1, "errors": 1, "warnings": 0}


def test_text_output_is_ruff_style(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"requests==2.31.0\nflask>=2\n  -e .\nx==1 --hash=sha256:{H1}\n")
    code, out = run(capsys, str(path))
    assert code == 1
    assert out == (
        f"{path}:1:1: HP002 [*] requests has no --hash\n"
        f"{path}:2:1: HP001 flask>=2 is not pinned to one version (use ==)\n"
        f"{path}:2:1: HP002 flask has no --hash\n"
        f"{path}:3:3: HP003 editable requirement . cannot be hashed\n"
        "Found 4 errors and 0 warnings (1 fixable).\n"
    )


def test_clean_file_is_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"# lock\nrequests==2.31.0 \\\n    --hash=sha256:{H1}\n")
    assert run(capsys, str(path)) == (0, "")


def test_warnings_only_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"a==1.* --hash=sha256:{H1}\n")
    code, out = run(capsys, str(path))
    assert code == 0
    assert out.endswith("Found 0 errors and 1 warning.\n")


def test_json_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.31.0 \\\n  --pre\n-r more.txt\n")
    (tmp_path / "more.txt").write_text(f"a==1 --hash=sha256:{H1}\n")
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "--format", "json", "requirements.txt")
    assert code == 1
    assert json.loads(out) == {
        "version": 1,
        "files": [
            {
                "path": "requirements.txt",
                "findings": [
                    {
                        "line": 1,  # the logical line's first physical line, as pip numbers it
                        "column": 3,  # on its physical line 2
                        "end_line": 2,
                        "column_line": 2,  # the physical line the column counts on
                        "code": "HP103",
                        "rule": "ignored-text",
                        "severity": "warning",
                        "requirement": None,
                        "message": "pip ignores --pre on a line with a requirement",
                        "fixable": False,
                    },
                    {
                        "line": 1,
                        "column": 1,
                        "end_line": 2,
                        "column_line": 1,
                        "code": "HP002",
                        "rule": "unhashed",
                        "severity": "error",
                        "requirement": "requests",
                        "message": "requests has no --hash",
                        "fixable": True,
                    },
                ],
            },
            {"path": "more.txt", "findings": []},
        ],
        "summary": {"files": 2, "errors": 1, "warnings": 1},
    }


def test_a_digest_on_a_continuation_line_keeps_the_logical_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hashpin.rules import check
    from hashpin.workspace import load

    text = f"a==1 \\\n    --hash=sha256:{H1} \\\n    --hash=sha256:xyz  # last\n"
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    _, out = run(capsys, "--format", "json", str(path))
    [finding] = json.loads(out)["files"][0]["findings"]
    assert (finding["code"], finding["line"], finding["end_line"]) == ("HP006", 1, 3)
    assert finding["column"] == 5  # where the digest's --hash starts on its physical line
    [found] = check(load([str(path)])).files[str(path)]
    assert (found.line, found.end_line, found.column_line, found.column) == (1, 3, 3, 5)


def test_github_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("a==1\n")
    code, out = run(capsys, "--format", "github", "requirements.txt")
    assert code == 1
    assert out == (
        "::error file=requirements.txt,line=1,col=1,endLine=1,title=HP002 unhashed"
        "::a has no --hash\n"
    )


def test_sarif_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("a>=1\n")
    code, out = run(capsys, "--format", "sarif", "requirements.txt")
    document = json.loads(out)
    assert code == 1
    assert document["version"] == "2.1.0"
    (run_object,) = document["runs"]
    rules = run_object["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in RULES]
    results = run_object["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("HP001", "error"),
        ("HP002", "error"),
    ]
    assert rules[results[0]["ruleIndex"]]["id"] == "HP001"
    location = results[0]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "requirements.txt"},
        "region": {"startLine": 1, "startColumn": 1, "endLine": 1},
    }


def test_config_select_ignore_severity_exclude(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text(
        "[tool.hashpin]\n"
        'ignore = ["unpinned"]\n'
        'severity = { HP002 = "warning" }\n'
        'exclude = ["vendor/*.txt"]\n'
    )
    Path("vendor").mkdir()
    Path("vendor/requirements.txt").write_text("junk>=1\n")
    Path("requirements.txt").write_text("a>=1\n")
    code = main(["check", "requirements.txt", "vendor/requirements.txt"])
    out = capsys.readouterr().out
    assert code == 0
    assert out == ("requirements.txt:1:1: HP002 a has no --hash\nFound 0 errors and 1 warning.\n")
    assert (
        main(["check", "--select", "HP002", "--severity", "HP002=error", "requirements.txt"]) == 1
    )
    assert capsys.readouterr().out.startswith("requirements.txt:1:1: HP002 a has no --hash\n")


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[tool.hashpin]\nselct = []\n", "unknown key 'selct'"),
        ('[tool.hashpin]\nselect = ["HP999"]\n', "select: unknown rule 'HP999'"),
        ('[tool.hashpin]\nseverity = { HP001 = "fatal" }\n', 'must be "error" or "warning"'),
        ("[tool.hashpin]\nignore = 3\n", "ignore: must be a list of strings"),
        ("[tool.hashpin\n", "invalid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pyproject: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text(pyproject)
    Path("requirements.txt").write_text("a==1\n")
    assert main(["check", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "cannot read file"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff"), "cannot decode"),
        (lambda p: p.write_bytes(b"\x00" * 100), "NUL bytes"),
        (lambda p: p.write_bytes(b"a" * (17 * 1024 * 1024)), "MiB are refused"),
    ],
    ids=["directory", "missing", "binary", "nul", "huge"],
)
def test_bad_input_is_one_clear_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: object, message: str
) -> None:
    path = tmp_path / "requirements.txt"
    setup(path)  # type: ignore[operator]
    code, out = run(capsys, str(path))
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"{path}:1:1: HP000 ") and message in first


def test_one_megabyte_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("a==1 " + "x" * 1_000_000 + "\n")
    code, out = run(capsys, str(path))
    assert code == 1 and ":1:1: HP000 " in out


def test_check_never_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"\xef\xbb\xbfa==1\r\nb>=2")
    before = sorted(p.name for p in tmp_path.iterdir()), path.read_bytes(), path.stat().st_mtime_ns
    run(capsys, str(path))
    assert (
        sorted(p.name for p in tmp_path.iterdir()),
        path.read_bytes(),
        path.stat().st_mtime_ns,
    ) == before


def test_every_rule_is_documented_in_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for rule in RULES:
        assert f"`{rule.code}`" in readme and f"`{rule.name}`" in readme, rule.code


def test_check_never_imports_the_network_code(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "requirements.txt"
    path.write_text(
        "foo==1.0\nbar @ https://example.invalid/bar-1.0.tar.gz\n-r https://x.invalid/r.txt\n"
    )
    probe = (
        "import sys\nfrom hashpin.cli import main\n"
        f"main(['check', {str(path)!r}])\n"
        "loaded = {'hashpin.index', 'hashpin.fix', 'hashpin.cache', 'hashpin.pagejson', 'msgspec',"
        " 'socket', 'urllib.request'}\n"
        "print(sorted(loaded & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
