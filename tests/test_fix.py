"""``hashpin fix`` in-process against a real index on 127.0.0.1: byte-exact tables and policy."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_sdist, make_wheel
from indexserver import IndexServer, ServedFile

from hashpin.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

FOO_10 = make_wheel("foo", "1.0")
FOO_10_SDIST = make_sdist("foo", "1.0")
FOO_20 = make_wheel("foo", "2.0")
FOO_21RC = make_wheel("foo", "2.1rc1")
FOO_25 = make_wheel("foo", "2.5")  # requires a Python that does not exist yet
FOO_30 = make_wheel("foo", "3.0")  # yanked
BAR_LINUX_311 = make_wheel("bar", "0.5", "cp311-cp311-manylinux_2_17_x86_64")
BAR_WIN_311 = make_wheel("bar", "0.5", "cp311-cp311-win_amd64")
BAR_LINUX_312 = make_wheel("bar", "0.5", "cp312-cp312-manylinux_2_17_x86_64")
BAR_ABI3 = make_wheel("bar", "0.5", "cp38-abi3-macosx_11_0_arm64")
BAR_SDIST = make_sdist("bar", "0.5")
BAZ = make_wheel("baz", "1.0")
FOO_10_LOCAL = make_wheel("foo", "1.0+cpu")


def projects() -> dict[str, list[Dist | ServedFile]]:
    return {
        "foo": [
            FOO_10,
            FOO_10_SDIST,
            FOO_20,
            FOO_21RC,
            ServedFile(FOO_25, requires_python=">=3.99"),
            ServedFile(FOO_30, yanked="broken"),
        ],
        "bar": [BAR_LINUX_311, BAR_WIN_311, BAR_LINUX_312, BAR_ABI3, BAR_SDIST],
        "baz": [BAZ],
    }


def hashes(*dists: Dist, indent: str = "    ", newline: str = "\n") -> str:
    """The hash lines pip-compile would write after ``name==version``."""
    lines = sorted(f"--hash=sha256:{dist.sha256}" for dist in dists)
    return f" \\{newline}" + f" \\{newline}".join(indent + line for line in lines)


FOO = hashes(FOO_10, FOO_10_SDIST)
FOO_CRLF = hashes(FOO_10, FOO_10_SDIST, newline="\r\n")
BAR = hashes(BAR_LINUX_311, BAR_WIN_311, BAR_LINUX_312, BAR_ABI3, BAR_SDIST)


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(projects()) as running:
        yield running


def fix(server: IndexServer | None, *args: str) -> int:
    index = ["--index-url", server.index_url] if server is not None else []
    return main(["fix", *index, "--cache-dir", "cache", *args])


# (id, input, expected, extra arguments)
FIXES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("plain", "foo==1.0\n", f"foo==1.0{FOO}\n", ()),
    ("crlf", "foo==1.0\r\n", f"foo==1.0{FOO_CRLF}\r\n", ()),
    ("no final newline", "foo==1.0", f"foo==1.0{FOO}", ()),
    ("inline comment", "foo==1.0   # why\n", f"foo==1.0{FOO}   # why\n", ()),
    (
        "extras and marker",
        'foo[x,y]==1.0 ; python_version >= "3"\n',
        f'foo[x,y]==1.0 ; python_version >= "3"{FOO}\n',
        (),
    ),
    (
        "comments and blank lines around",
        "# top\n\nfoo==1.0\n\n  # end\n",
        f"# top\n\nfoo==1.0{FOO}\n\n  # end\n",
        (),
    ),
    (
        "only the unhashed line changes",
        f"baz==1.0 --hash=sha256:{BAZ.sha256}\nfoo==1.0\n",
        f"baz==1.0 --hash=sha256:{BAZ.sha256}\nfoo==1.0{FOO}\n",
        (),
    ),
    ("malformed digest", "foo==1.0 --hash=sha256:zz\n", f"foo==1.0{FOO}\n", ()),
    (
        "hash swallowed by a comment",
        "foo==1.0  # pinned \\\n    --hash=sha256:abc\n",
        f"foo==1.0{FOO}  # pinned\n",
        (),
    ),
    (
        "hash line cut off by a comment line",
        f"foo==1.0 \\\n    # via x\n    --hash=sha256:{FOO_10.sha256}\nbaz==1.0{hashes(BAZ)}\n",
        f"foo==1.0{FOO}  # via x\nbaz==1.0{hashes(BAZ)}\n",
        (),
    ),
    ("indented requirement", "  foo==1.0\n", f"  foo==1.0{FOO}\n", ()),
    (
        "other options kept",
        "foo==1.0 --config-settings key=value\n",
        f"foo==1.0 --config-settings=key=value{FOO}\n",
        (),
    ),
    ("other spelling of the version", "foo==1.0.0\n", f"foo==1.0.0{FOO}\n", ()),
    ("name normalization", "Foo_==1.0\n".replace("_", ""), f"Foo==1.0{FOO}\n", ()),
    ("pin", "foo>=1.0\n", f"foo==2.0{hashes(FOO_20)}\n", ("--pin",)),
    ("pin bare name", "foo\n", f"foo==2.0{hashes(FOO_20)}\n", ("--pin",)),
    ("pin wildcard", "foo==1.*\n", f"foo==1.0{FOO}\n", ("--pin",)),
    (
        "pin keeps extras and marker",
        "foo[x] >=1, <2;python_version>'3'  # c\n",
        f"foo[x]==1.0;python_version>'3'{FOO}  # c\n",
        ("--pin",),
    ),
    (
        "pin a pre-release the specifier asks for",
        "foo>=2.1rc1\n",
        f"foo==2.1rc1{hashes(FOO_21RC)}\n",
        ("--pin",),
    ),
    ("pin with --pre", "foo<2.5\n", f"foo==2.1rc1{hashes(FOO_21RC)}\n", ("--pin", "--pre")),
    (
        "pin with --pre in the file",
        "--pre\nfoo<2.5\n",
        f"--pre\nfoo==2.1rc1{hashes(FOO_21RC)}\n",
        ("--pin",),
    ),
    (
        "refresh replaces stale hashes, keeps indentation",
        f"foo==1.0 \\\n  --hash=sha256:{'0' * 64} \\\n  --hash=sha256:{FOO_10.sha256}\n",
        f"foo==1.0{hashes(FOO_10, FOO_10_SDIST, indent='  ')}\n",
        ("--refresh-hashes",),
    ),
    (
        "narrowed to a platform and Python",
        "bar==0.5\n",
        f"bar==0.5{hashes(BAR_LINUX_311, BAR_SDIST)}\n",
        ("--platform", "manylinux2014_x86_64", "--python-version", "3.11"),
    ),
    (
        "narrowed to macOS, abi3 wheel",
        "bar==0.5\n",
        f"bar==0.5{hashes(BAR_ABI3, BAR_SDIST)}\n",
        ("--platform", "macosx_14_0_arm64", "--python-version", "3.12"),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "args"), [row[1:] for row in FIXES], ids=[row[0] for row in FIXES]
)
def test_fix_table(
    server: IndexServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    before: str,
    after: str,
    args: tuple[str, ...],
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(before.encode())
    assert fix(server, *args, str(path)) == 1
    assert path.read_bytes().decode() == after
    assert f"Fixing {path}" in capsys.readouterr().out
    # Idempotent: a second run finds nothing to change.
    assert fix(server, *args, str(path)) == 0
    assert path.read_bytes().decode() == after


# Files that fix must leave byte for byte as they are, exit 0 unless check finds errors.
NO_OPS: list[tuple[str, str, tuple[str, ...], int]] = [
    ("hashed", f"foo==1.0{FOO}\n", (), 0),
    ("hashed, refresh finds the same set", f"foo==1.0{FOO}\n", ("--refresh-hashes",), 0),
    ("only comments", "# nothing\n\n", (), 0),
    ("unpinned without --pin", "foo>=1\n", (), 1),
    ("vcs", "git+https://example.invalid/x.git#egg=x\n", (), 1),
    ("editable", "-e ./src\n", (), 1),
    ("hash on an editable", f"-e ./src --hash=sha256:{BAZ.sha256}\n", (), 1),
    ("directory", "./src/\n", (), 1),
    ("suppressed", "foo==1.0  # hashpin: ignore[HP002]\n", (), 0),
    ("deselected rule", "foo==1.0\n", ("--ignore", "HP002"), 0),
]


@pytest.mark.parametrize(
    ("text", "args", "code"), [row[1:] for row in NO_OPS], ids=[row[0] for row in NO_OPS]
)
def test_fix_leaves_alone(
    server: IndexServer, tmp_path: Path, text: str, args: tuple[str, ...], code: int
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(text.encode())
    assert fix(server, *args, str(path)) == code
    assert path.read_bytes() == text.encode()


def test_bom_and_declared_encoding_are_kept(server: IndexServer, tmp_path: Path) -> None:
    bom = tmp_path / "requirements.txt"
    bom.write_bytes(b"\xef\xbb\xbf# caf\xc3\xa9\nfoo==1.0\n")
    latin = tmp_path / "requirements-latin.txt"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\nfoo==1.0\n")
    assert fix(server, str(bom), str(latin)) == 1
    assert bom.read_bytes() == b"\xef\xbb\xbf# caf\xc3\xa9\n" + f"foo==1.0{FOO}\n".encode()
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + (
        f"foo==1.0{FOO}\n".encode()
    )


def test_included_files_are_fixed_and_constraints_left_alone(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    root = tmp_path / "requirements.txt"
    root.write_text("-r sub/more.txt\n-c constraints.txt\nfoo\n")
    more = tmp_path / "sub" / "more.txt"
    more.write_text("baz==1.0\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("foo==1.0\n")
    assert fix(server, str(root)) == 1
    # foo is pinned by the constraints file: its requirement gets that version's hashes.
    assert root.read_text() == f"-r sub/more.txt\n-c constraints.txt\nfoo{FOO}\n"
    assert more.read_text() == f"baz==1.0{hashes(BAZ)}\n"
    assert constraints.read_text() == "foo==1.0\n"
    out = capsys.readouterr().out
    assert f"Fixing {root}" in out and f"Fixing {more}" in out


def test_direct_urls_are_downloaded_and_hashed(server: IndexServer, tmp_path: Path) -> None:
    wheel = BAZ.write_to(tmp_path)
    url = f"{server.url}/files/{BAZ.filename}"
    one = hashes(BAZ)
    cases = {
        "named URL": (f"baz @ {url}\n", f"baz @ {url}{one}\n"),
        "relative path": (f"{wheel.name}\n", f"{wheel.name}{one}\n"),
        "malformed fragment dropped": (
            f"{wheel.as_uri()}#sha256=nothex\n",
            f"{wheel.as_uri()}{one}\n",
        ),
        "weak fragment kept": (
            f"baz @ {url}#md5={BAZ.md5} ; python_version > '3'\n",
            f"baz @ {url}#md5={BAZ.md5} ; python_version > '3'{one}\n",
        ),
    }
    paths = {}
    for number, (name, (before, _)) in enumerate(cases.items()):
        paths[name] = tmp_path / f"requirements-{number}.txt"
        paths[name].write_text(before)
    assert fix(server, *map(str, paths.values())) == 1
    assert {name: path.read_text() for name, path in paths.items()} == {
        name: after for name, (_, after) in cases.items()
    }


def test_environment_variables_stay_as_written(
    server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOO_VERSION", "1.0")
    path = tmp_path / "requirements.txt"
    path.write_text("foo==${FOO_VERSION}\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==${{FOO_VERSION}}{FOO}\n"


def test_a_failed_fetch_leaves_the_whole_file_untouched(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    text = "foo==1.0\nmissing==1.0\nfoo2==9\n"
    path.write_text(text)
    other = tmp_path / "requirements-ok.txt"
    other.write_text("baz==1.0\n")
    assert fix(server, str(path), str(other)) == 1
    assert path.read_text() == text
    assert other.read_text() == f"baz==1.0{hashes(BAZ)}\n"  # other files still get fixed
    err = capsys.readouterr().err
    assert f"{path}:2: missing: no index or find-links source has missing" in err
    assert f"{path} left unchanged" in err


def test_a_missing_version_is_reported(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==9.9\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == "foo==9.9\n"
    assert f"{path}:1: foo: {server.index_url} has no file of foo 9.9" in capsys.readouterr().err


def test_server_errors_are_retried_then_reported(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    server.failures["/simple/foo/"] = 1
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==1.0{FOO}\n"
    path.write_text("baz==1.0\n")
    server.failures["/simple/baz/"] = 100
    assert fix(server, "--timeout", "2", str(path)) == 1
    assert path.read_text() == "baz==1.0\n"
    assert "HTTP 500" in capsys.readouterr().err


def test_dry_run_prints_a_diff_and_writes_nothing(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, "--diff", str(path)) == 1
    assert path.read_text() == "foo==1.0\n"
    out = capsys.readouterr().out
    assert f"--- {path}\n+++ {path}\n" in out
    assert "-foo==1.0\n+foo==1.0 \\\n+    --hash=sha256:" in out
    assert "HP002" not in out  # the report describes the file as it would be


def test_index_digests_are_used_without_downloading(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    assert not [p for p in server.hits if p.startswith("/files/")]


@pytest.mark.parametrize("digests", ["none", "md5"])
def test_files_without_a_strong_digest_are_downloaded(
    server: IndexServer, tmp_path: Path, digests: str
) -> None:
    server.digests = digests
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==1.0{FOO}\n"
    assert "md5" not in path.read_text()


def test_verify_refuses_a_lying_index(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.digests = "lie"
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, "--verify", str(path)) == 1
    assert path.read_text() == "foo==1.0\n"
    assert "but the file's bytes hash to" in capsys.readouterr().err
    server.digests = "sha256"
    assert fix(server, "--verify", str(path)) == 1
    assert path.read_text() == f"foo==1.0{FOO}\n"


def test_warm_cache_revalidates_once_per_project_and_downloads_nothing(
    server: IndexServer, tmp_path: Path
) -> None:
    server.digests = "none"  # force downloads on the cold run, so the digest cache matters
    text = "foo==1.0\nbaz==1.0\n"
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    assert fix(server, str(path)) == 1
    cold = dict(server.hits)
    assert cold["/simple/foo/"] == 1 and cold[f"/files/{FOO_10.filename}"] == 1
    path.write_text(text)
    assert fix(server, str(path)) == 1
    warm = {p: n - cold.get(p, 0) for p, n in server.hits.items() if n - cold.get(p, 0)}
    assert warm == {"/simple/foo/": 1, "/simple/baz/": 1}
    conditional = [r for r in server.requests if r.path == "/simple/foo/"][-1]
    assert "if-none-match" in conditional.headers
    # --offline needs no server at all once the cache is warm.
    path.write_text(text)
    server.stop()
    assert (
        main(
            ["fix", "--index-url", server.index_url, "--cache-dir", "cache", "--offline", str(path)]
        )
        == 1
    )
    assert path.read_text() == f"foo==1.0{FOO}\nbaz==1.0{hashes(BAZ)}\n"


def test_new_uploads_are_seen_through_the_cache(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("baz==1.0\n")
    assert fix(server, str(path)) == 1
    new_wheel = make_wheel("baz", "1.0", "cp311-cp311-win_amd64")
    server.add_project("baz", [new_wheel])
    assert fix(server, "--refresh-hashes", str(path)) == 1
    assert path.read_text() == f"baz==1.0{hashes(BAZ, new_wheel)}\n"


def test_offline_without_cache_fails_cleanly(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, "--offline", str(path)) == 1
    assert path.read_text() == "foo==1.0\n"
    assert "not in the cache (--offline)" in capsys.readouterr().err
    assert server.hits == {}


def test_no_cache_writes_no_cache(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, "--no-cache", str(path)) == 1
    assert not (tmp_path / "cache").exists()
    assert not (tmp_path / "xdg-cache").exists()


def test_default_cache_is_under_xdg_cache_home(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert main(["fix", "--index-url", server.index_url, str(path)]) == 1
    assert list((tmp_path / "xdg-cache" / "hashpin").rglob("*.page"))


def test_first_index_takes_all_files_from_the_first_index_that_has_the_project(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    impostor = make_wheel("foo", "1.0", "py2.py3-none-any")
    with IndexServer({"foo": [impostor]}) as extra:
        path = tmp_path / "requirements.txt"
        path.write_text("foo==1.0\n")
        assert fix(server, "--extra-index-url", extra.index_url, str(path)) == 1
        assert path.read_text() == f"foo==1.0{hashes(impostor)}\n"
        assert f"foo is also on {server.index_url}" in capsys.readouterr().err
        path.write_text("foo==1.0\n")
        args = ("--extra-index-url", extra.index_url, "--index-strategy", "unsafe-best-match")
        assert fix(server, *args, str(path)) == 1
        assert path.read_text() == f"foo==1.0{hashes(impostor, FOO_10, FOO_10_SDIST)}\n"


def test_local_versions_count_for_a_pin(server: IndexServer, tmp_path: Path) -> None:
    server.add_project("foo", [FOO_10_LOCAL])
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==1.0{hashes(FOO_10, FOO_10_SDIST, FOO_10_LOCAL)}\n"


def test_yanked_pinned_version_is_hashed_with_a_warning(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==3.0\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==3.0{hashes(FOO_30)}\n"
    assert "foo 3.0 is yanked (broken)" in capsys.readouterr().err


def test_pin_respects_the_target_python(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo\n")
    assert fix(server, "--pin", "--python-version", "3.99", str(path)) == 1
    assert path.read_text() == f"foo==2.5{hashes(FOO_25)}\n"
    path.write_text("foo\n")
    assert fix(server, "--pin", "--python-version", "399", str(path)) == 1
    assert path.read_text() == f"foo==2.5{hashes(FOO_25)}\n"


class TestWhereTheIndexComesFrom:
    """File options, then flags, then PIP_* variables, then pip.conf, then PyPI."""

    @pytest.fixture
    def wrong(self) -> Iterator[IndexServer]:
        with IndexServer({"foo": [make_wheel("foo", "1.0", "py2-none-any")]}) as running:
            yield running

    def run(self, tmp_path: Path, text: str, *args: str) -> str:
        path = tmp_path / "requirements.txt"
        path.write_text(text)
        assert main(["fix", "--cache-dir", "cache", *args, str(path)]) == 1
        return path.read_text()

    def test_file_option_beats_flag(
        self, server: IndexServer, wrong: IndexServer, tmp_path: Path
    ) -> None:
        text = f"--index-url {server.index_url}\nfoo==1.0\n"
        assert self.run(tmp_path, text, "-i", wrong.index_url) == f"{text[:-1]}{FOO}\n"

    def test_flag_beats_environment(
        self,
        server: IndexServer,
        wrong: IndexServer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PIP_INDEX_URL", wrong.index_url)
        assert self.run(tmp_path, "foo==1.0\n", "-i", server.index_url) == f"foo==1.0{FOO}\n"

    def test_environment_beats_pip_conf(
        self,
        server: IndexServer,
        wrong: IndexServer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nindex-url = {wrong.index_url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
        monkeypatch.setenv("PIP_INDEX_URL", server.index_url)
        assert self.run(tmp_path, "foo==1.0\n") == f"foo==1.0{FOO}\n"

    def test_pip_conf(
        self, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\ntimeout = 5\n[install]\nindex_url = {server.index_url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
        assert self.run(tmp_path, "foo==1.0\n") == f"foo==1.0{FOO}\n"

    def test_no_index_with_find_links_beside_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "reqs").mkdir()
        (tmp_path / "reqs" / "wheels").mkdir()
        BAZ.write_to(tmp_path / "reqs" / "wheels")
        path = tmp_path / "reqs" / "requirements.txt"
        path.write_text("--no-index\n--find-links wheels\nbaz==1.0\n")
        assert main(["fix", "--cache-dir", "cache", str(path)]) == 1
        assert path.read_text() == f"--no-index\n--find-links wheels\nbaz==1.0{hashes(BAZ)}\n"

    def test_verbose_names_the_source(
        self, server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.run(tmp_path, "foo==1.0\n", "-i", server.index_url, "-v")
        assert f"foo 1.0: 2 files from {server.index_url}" in capsys.readouterr().err


def test_mode_and_symlink_are_kept(server: IndexServer, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("foo==1.0\n")
    real.chmod(0o640)
    link = tmp_path / "requirements.txt"
    link.symlink_to(real)
    assert fix(server, str(link)) == 1
    assert link.is_symlink()
    assert real.read_text() == f"foo==1.0{FOO}\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if "hashpin-tmp" in p.name] == []


def test_progress_is_silent_when_not_a_terminal(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    assert capsys.readouterr().err == ""


def test_bad_flags_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\n")
    assert main(["fix", "--python-version", "three", str(path)]) == 2
    assert "invalid Python version 'three'" in capsys.readouterr().err
    assert main(["fix", "--timeout", "0", str(path)]) == 2
    assert "invalid timeout 0.0" in capsys.readouterr().err
    os.environ["PIP_TIMEOUT"] = "soon"
    try:
        assert main(["fix", str(path)]) == 2
    finally:
        del os.environ["PIP_TIMEOUT"]
    assert "invalid timeout 'soon'" in capsys.readouterr().err
    assert path.read_text() == "foo==1.0\n"


def test_progress_on_a_terminal(server: IndexServer, tmp_path: Path) -> None:
    import pty
    import subprocess
    import sys

    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\nbaz==1.0\n")
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "hashpin", "fix", "-i", server.index_url, "--no-cache"]
    process = subprocess.run(
        [*command, str(path)], stderr=secondary, stdout=subprocess.PIPE, check=False
    )
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal is closed once everything is read
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert process.returncode == 1
    assert b"hashpin: fetched 2/2 projects" in shown


@pytest.mark.parametrize(
    ("target", "filename", "admitted"),
    [
        ({"platforms": ["manylinux2014_x86_64"]}, "a-1-cp311-cp311-manylinux_2_5_x86_64.whl", True),
        (
            {"platforms": ["manylinux2014_x86_64"]},
            "a-1-cp311-cp311-manylinux_2_28_x86_64.whl",
            False,
        ),
        ({"platforms": ["manylinux_2_28_x86_64"]}, "a-1-cp311-cp311-manylinux1_x86_64.whl", True),
        (
            {"platforms": ["manylinux2014_x86_64"]},
            "a-1-cp311-cp311-musllinux_1_1_x86_64.whl",
            False,
        ),
        (
            {"platforms": ["manylinux2014_x86_64"]},
            "a-1-cp311-cp311-manylinux2014_aarch64.whl",
            False,
        ),
        ({"platforms": ["macosx_14_0_arm64"]}, "a-1-cp311-cp311-macosx_11_0_universal2.whl", True),
        ({"platforms": ["macosx_10_9_x86_64"]}, "a-1-cp311-cp311-macosx_11_0_x86_64.whl", False),
        ({"platforms": ["win_amd64"]}, "a-1-py3-none-any.whl", True),
        ({"platforms": ["win_amd64"]}, "a-1.tar.gz", True),
        ({"python_version": "3.12"}, "a-1-cp311-cp311-win_amd64.whl", False),
        ({"python_version": "3.12"}, "a-1-cp38-abi3-win_amd64.whl", True),
        ({"python_version": "3.7"}, "a-1-cp38-abi3-win_amd64.whl", False),
        ({"python_version": "3.12"}, "a-1-py2.py3-none-any.whl", True),
        ({"python_version": "3.12"}, "a-1-py313-none-any.whl", False),
        ({"python_version": "312"}, "a-1-cp312-cp312-win_amd64.whl", True),
        ({"implementation": "pp"}, "a-1-cp311-cp311-win_amd64.whl", False),
        ({"implementation": "pp"}, "a-1-pp310-pypy310_pp73-win_amd64.whl", True),
        ({"abis": ["cp311"]}, "a-1-cp311-cp311d-win_amd64.whl", False),
        ({"abis": ["cp311"]}, "a-1-cp311-abi3-win_amd64.whl", True),
    ],
)
def test_narrowing(target: dict[str, object], filename: str, admitted: bool) -> None:
    from hashpin.versions import Target

    assert Target(**target).admits(filename, "a") is admitted  # type: ignore[arg-type]


def test_a_file_index_is_read_as_pip_reads_it(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    BAZ.write_to(tmp_path / "files")
    (tmp_path / "simple" / "baz").mkdir(parents=True)
    (tmp_path / "simple" / "baz" / "index.html").write_text(
        f'<a href="../../files/{BAZ.filename}">{BAZ.filename}</a>'
    )
    path = tmp_path / "requirements.txt"
    path.write_text("baz==1.0\n")
    index = (tmp_path / "simple").as_uri()
    assert main(["fix", "--no-cache", "--offline", "-i", index, str(path)]) == 1
    assert path.read_text() == f"baz==1.0{hashes(BAZ)}\n"


def test_machine_readable_report_keeps_stdout_clean(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\nbar>=0.5\n")
    assert fix(server, "--format", "json", str(path)) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert [f["code"] for f in report["files"][0]["findings"]] == ["HP001", "HP002"]
    assert f"Fixing {path}" in err


def test_diff_of_a_latin_1_file(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"# coding: latin-1\nfoo==1.0  # caf\xe9\n")
    assert fix(server, "--dry-run", str(path)) == 1
    assert "-foo==1.0  # café\n" in capsys.readouterr().out


def test_credentials_are_used_but_never_shown_or_written(
    server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.auth = ("alice", "s3cret-token")
    path = tmp_path / "requirements.txt"
    path.write_text("foo==1.0\nmissing==1.0\n")
    index = server.index_url_with_auth("alice", "s3cret-token")
    assert main(["fix", "--cache-dir", "cache", "-v", "-i", index, str(path)]) == 1
    err = capsys.readouterr().err
    assert "missing" in err and "s3cret-token" not in err
    path.write_text("foo==1.0\n")
    assert main(["fix", "--cache-dir", "cache", "-v", "-i", index, str(path)]) == 1
    assert path.read_text() == f"foo==1.0{FOO}\n"
    assert "s3cret-token" not in capsys.readouterr().err
    cached = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached and b"s3cret-token" not in cached


def test_a_corrupt_cache_is_only_a_miss(server: IndexServer, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    server.digests = "none"
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    entries = [entry for entry in (tmp_path / "cache").rglob("*") if entry.is_file()]
    assert {entry.suffix for entry in entries} == {".json", ".page"}  # digests, the page
    for entry in entries:
        entry.write_text('{"url": \n')
    path.write_text("foo==1.0\n")
    assert fix(server, str(path)) == 1
    assert path.read_text() == f"foo==1.0{FOO}\n"
