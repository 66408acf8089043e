"""No secret reaches a report: URL credentials are hidden, ${NAME} values shown as written.

Each case is one requirements line whose finding quotes line text, checked through the real
command line in every output format, with ``TOKEN`` set in the environment pip would use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hashpin.cli import main
from hashpin.redact import redact_text, redact_url, unexpand
from hashpin.report import FORMATS
from hashpin.reqfile import parse_text

PASSWORD = "s3cretpw"
TOKEN = "tok-SECRET-123"
SECRETS = (PASSWORD, TOKEN, "SECRET")
H = "a" * 64
AUTH = "user:s3cretpw@"  # written in the file
SHOWN = "user:****@"  # what every message must show instead
VAR = "${TOKEN}"

CASES = [
    # (id, line, code of the finding that quotes it, texts its message must show)
    ("HP105 index", f"--index-url http://{AUTH}pypi.example.com/{VAR}/simple", "HP105", (SHOWN, VAR)),
    ("HP105 token as password", f"--extra-index-url http://ci:{VAR}@pypi.example.com/simple", "HP105", ("ci:****@",)),
    ("HP105 token in query", f"--index-url http://pypi.example.com/simple?token={VAR}", "HP105", (f"?token={VAR}",)),
    ("HP105 find-links", f"--find-links http://{AUTH}links.example.com/{VAR}/", "HP105", (SHOWN, VAR)),
    ("HP105 requirement URL", f"pkg @ http://{AUTH}files.example.com/{VAR}/pkg-1.0.tar.gz --hash=sha256:{H}", "HP105", (SHOWN, VAR)),
    ("HP107", f"-r https://{AUTH}example.com/{VAR}/r.txt", "HP107", (SHOWN, VAR)),
    ("HP004 named", f"pkg @ git+https://{AUTH}github.com/org/{VAR}.git@main", "HP004", (SHOWN, VAR, ".git@main")),
    ("HP004 lone token user", f"git+https://{VAR}@github.com/org/repo.git#egg=pkg", "HP004", ("https://****@github.com",)),
    ("HP003", f"-e git+https://{AUTH}host.example.com/{VAR}.git#egg=pkg", "HP003", (SHOWN, VAR)),
    ("HP002 URL label", f"https://{AUTH}files.example.com/{VAR}/pkg-1.0.tar.gz", "HP002", (SHOWN, VAR)),
    ("HP001", f'pkg>=1 ; platform_release == "{VAR}" --hash=sha256:{H}', "HP001", (VAR,)),
    ("HP101", f'pkg==1.* ; platform_release == "{VAR}" --hash=sha256:{H}', "HP101", (VAR,)),
    ("HP005", f"./{VAR}/src", "HP005", (VAR,)),
    ("HP006 URL label", f"https://{AUTH}h.example.com/{VAR}/pkg-1.0.tar.gz#sha256=xyz", "HP006", ()),
    ("HP106", f"https://{AUTH}h.example.com/{VAR}/pkg-1.0.tar.gz#md5={'c' * 32}", "HP106", (SHOWN, VAR)),
    ("HP103 dropped word", f"pkg==1.0 --hash=sha256:{H} https://{AUTH}h.example.com/{VAR}/x", "HP103", (SHOWN, VAR)),
    ("HP000 invalid requirement", f"pkg @@ https://{AUTH}example.com/{VAR}/x.tar.gz", "HP000", (SHOWN, VAR)),
    ("HP000 invalid marker", f'pkg @ https://{AUTH}example.com/x.tar.gz ; foo == "{VAR}"', "HP000", (VAR,)),
    ("HP000 invalid URL", f"https://{AUTH}[bad/{VAR}/x.whl", "HP000", (SHOWN, VAR)),
    ("HP000 unbalanced quote", f'--index-url "https://{AUTH}h.example.com/{VAR}', "HP000", (SHOWN, VAR)),
    ("HP000 missing include", f"-r {VAR}/missing.txt", "HP000", (VAR,)),
]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], path: Path, format_name: str) -> str:
    main(["check", "--isolated", "--format", format_name, str(path)])
    captured = capsys.readouterr()
    return captured.out + captured.err


def findings(out: str) -> list[dict[str, object]]:
    return [finding for entry in json.loads(out)["files"] for finding in entry["findings"]]


@pytest.mark.parametrize(
    ("line", "code", "shown"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_no_secret_in_any_format(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: str,
    code: str,
    shown: tuple[str, ...],
) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)
    target = tmp_path / "requirements.txt"
    target.write_text(line + "\n")
    found = [f for f in findings(run(capsys, target, "json")) if f["code"] == code]
    assert found, f"no {code} for {line!r}"
    message = str(found[0]["message"])
    for text in shown:  # redaction hides the secret, not the message
        assert text in message
    for format_name in FORMATS:
        out = run(capsys, target, format_name)
        for secret in SECRETS:
            assert secret not in out, (format_name, out)
        for text in shown:
            assert text in out, (format_name, out)


def test_requirement_field_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)
    target = tmp_path / "requirements.txt"
    target.write_text(f"https://{AUTH}files.example.com/{VAR}/pkg-1.0.tar.gz\n")
    (finding,) = findings(run(capsys, target, "json"))
    assert finding["requirement"] == f"https://{SHOWN}files.example.com/{VAR}/pkg-1.0.tar.gz"


def test_the_check_uses_the_value_and_shows_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VERSION", "1.*")
    target = tmp_path / "requirements.txt"
    target.write_text(f"pkg==${{VERSION}} --hash=sha256:{H}\n")
    (finding,) = findings(run(capsys, target, "json"))
    assert finding["code"] == "HP101"  # found in the expanded text
    assert finding["message"] == "pkg==${VERSION} pins a version range, not one version"


def test_escaped_value_in_a_quoted_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The message quotes the requirement with repr(), which doubles the backslash.
    monkeypatch.setenv("TOKEN", "tok\\SECRET'123")
    target = tmp_path / "requirements.txt"
    target.write_text(f"pkg @@ https://example.com/{VAR}/x.tar.gz\n")
    for format_name in FORMATS:
        out = run(capsys, target, format_name)
        assert "SECRET" not in out and VAR in out, (format_name, out)


def test_literal_text_is_not_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only what came from the environment is put back as ${NAME}; text as written stays.
    monkeypatch.setenv("TOKEN", TOKEN)
    target = tmp_path / "requirements.txt"
    target.write_text("https://files.example.com/abc/pkg-1.0.tar.gz\n")
    (finding,) = findings(run(capsys, target, "json"))
    assert finding["message"] == "https://files.example.com/abc/pkg-1.0.tar.gz has no --hash"


# -- the functions ----------------------------------------------------------------------------

REDACTED = [
    ("https://u:p@h:1/x", "https://u:****@h:1/x"),
    ("https://token@h/x", "https://****@h/x"),
    ("https://h/x", "https://h/x"),
    ("https://u:p@ss@h/x", "https://u:****@h/x"),  # "@" in the password
    ("https://u:p:ss@h/x", "https://u:****@h/x"),  # ":" in the password
    ("https://u:pa/ss@h/x", "https://****@h/x"),  # "/" ends the authority early
    ("https://u:pa:12/ss@h/x", "https://****@h/x"),
    ("https://u:p#ss@h/x", "https://****@h/x"),
    ("https://u:p?ss@h/x", "https://****@h/x"),
    ("https://u:p/a@b@h/x", "https://****@h/x"),
    ("https://ghp_abc123@github.com/o/r", "https://****@github.com/o/r"),
    ("git+https://u:p@h/r.git@v1", "git+https://u:****@h/r.git@v1"),  # "@v1" is a revision
    ("git+https://h/r.git@v1", "git+https://h/r.git@v1"),
    ("git+https://h:8443/r.git@v1", "git+https://h:8443/r.git@v1"),
    ("https://h/x?q=a@b", "https://h/x?q=a@b"),
    ("http://[::1]/r.git@main", "http://[::1]/r.git@main"),
    ("http://u:p@[::1]:8080/x", "http://u:****@[::1]:8080/x"),
    ("https://u:@h/x", "https://u:****@h/x"),
]


@pytest.mark.parametrize(("url", "expected"), REDACTED)
def test_redact_text_agrees_with_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_text(url) == expected
    assert redact_text(f"x '{url}': y") == f"x '{expected}': y"


def test_redact_text() -> None:
    assert redact_text("") == ""
    assert redact_text("no URL, but user@example.com") == "no URL, but user@example.com"
    assert redact_text("pkg @ https://h/x.whl") == "pkg @ https://h/x.whl"
    assert redact_text("http://ci:${TOKEN}@h/simple") == "http://ci:****@h/simple"
    # urlsplit refuses this one; redact_text never raises.
    assert redact_text("invalid URL 'https://u:p@[bad/x'") == "invalid URL 'https://u:****@[bad/x'"
    several = "a http://u:p1@h1/x and 'https://tok@h2/y',\nhttps://h3/z@v then svn+ssh://me:pw@h4"
    assert redact_text(several) == (
        "a http://u:****@h1/x and 'https://****@h2/y',\nhttps://h3/z@v then svn+ssh://me:****@h4"
    )


def test_unexpand() -> None:
    assert unexpand("no value here", [("tok", "${T}")]) == "no value here"
    assert unexpand("x", []) == "x"
    # Longest first, in one pass: "T" is not looked for inside the "${T}" just put back.
    assert unexpand("tok T tokT", [("T", "${U}"), ("tok", "${T}")]) == "${T} ${U} ${T}${U}"
    value = "a\\b'c"
    for quoted in (repr(f"pre {value}"), repr(f'pre {value} "')):
        assert value not in unexpand(quoted, [(value, "${V}")])
        assert "${V}" in unexpand(quoted, [(value, "${V}")])


def test_lines_record_their_expansions() -> None:
    env = {"A": "x${B}y", "B": "secret", "C": "1.0"}
    plain, expanded, chained, unset = parse_text(
        "pkg==1.0\npkg==${C} # ${A}\n--index-url https://h/${A}/${B}\npkg==${UNSET}\n", env
    )
    assert plain.expansions == () and unset.expansions == ()
    assert expanded.content == "pkg==1.0" and expanded.expansions == (("1.0", "${C}"),)
    # pip expands ${A} first, then the ${B} its value brought in: record the final text.
    assert chained.content == "--index-url https://h/xsecrety/secret"
    assert dict(chained.expansions) == {"xsecrety": "${A}", "secret": "${B}"}
    assert unexpand(chained.content, chained.expansions) == "--index-url https://h/${A}/${B}"
