"""The online rules against a real index on 127.0.0.1 serving real wheels, with and
without PEP 658 metadata: the dependency closure on several targets, and the hash sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from distmaker import Dist, make_wheel
from indexserver import IndexServer, ServedFile

from hashpin.cache import Cache
from hashpin.cli import main
from hashpin.fix import FIRST_INDEX, Resolver, search_orders
from hashpin.index import IndexClient
from hashpin.locations import IndexSettings
from hashpin.online import OnlineFinding, audit
from hashpin.targets import parse_target
from hashpin.workspace import load

if TYPE_CHECKING:
    from collections.abc import Iterator

LINUX, WINDOWS, OLD_LINUX = "3.12:linux-x86_64", "3.12:windows-amd64", "3.10:linux-x86_64"

REQUESTS = make_wheel("requests", "2.32.3", requires_dist=[
    "charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1",
    'PySocks!=1.5.7,>=1.5.6; extra == "socks"'], provides_extra=["socks"])  # fmt: skip
URLLIB3 = make_wheel("urllib3", "2.2.2")
CHARSET_LINUX = make_wheel("charset-normalizer", "3.3.2", "cp312-cp312-manylinux_2_17_x86_64")
CHARSET_WINDOWS = make_wheel("charset-normalizer", "3.3.2", "cp312-cp312-win_amd64")
IDNA = make_wheel("idna", "3.7")
PYSOCKS = make_wheel("PySocks", "1.7.1")
CLICK = make_wheel("click", "8.1.7", requires_dist=['colorama; platform_system == "Windows"'])
COLORAMA = make_wheel("colorama", "0.4.6")
APP = make_wheel("app", "1.0", requires_dist=['tomli>=1.1; python_version < "3.11"'])
TOMLI = make_wheel("tomli", "2.0.1")
LINUX_ONLY = make_wheel("linuxonly", "1.0", "cp312-cp312-manylinux_2_17_x86_64")
OLD_IDNA = make_wheel("oldidna", "1.0", requires_dist=["idna<3"])
YANKED = make_wheel("yanked", "1.0")


def projects() -> dict[str, list[Dist | ServedFile]]:
    return {
        "requests": [ServedFile(REQUESTS, core_metadata=True)],
        "urllib3": [ServedFile(URLLIB3, core_metadata=True)],
        "charset-normalizer": [CHARSET_LINUX, CHARSET_WINDOWS],
        "idna": [IDNA],
        "pysocks": [PYSOCKS],
        "click": [CLICK],  # no PEP 658 file: read with range requests
        "colorama": [COLORAMA],
        "app": [APP],
        "tomli": [TOMLI],
        "linuxonly": [LINUX_ONLY],
        "oldidna": [OLD_IDNA],
        "yanked": [ServedFile(YANKED, yanked="broken build")],
    }


def line(dist: Dist, *more: Dist, extras: str = "") -> str:
    hashes = "".join(f" --hash=sha256:{d.sha256}" for d in (dist, *more))
    return f"{dist.project}{extras}=={dist.version}{hashes}\n"


pytestmark = pytest.mark.usefixtures("sealed")  # conftest: nothing of this machine's pip


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer(projects()) as running:
        yield running


def online(
    server: IndexServer, text: str, *targets: str, cache: str = "cache", timeout: float = 5
) -> tuple[list[OnlineFinding], list[str]]:
    path = Path("requirements.txt")
    path.write_text(text)
    workspace = load([str(path)], env={})
    resolver = Resolver(IndexClient(timeout=timeout, retries=0, proxies={}), Cache(cache))
    order = search_orders(workspace, IndexSettings(server.index_url))
    return audit(
        workspace,
        [parse_target(target) for target in targets or (LINUX,)],
        resolver,
        lambda source: order[source.key],
        FIRST_INDEX,
    )


def codes(findings: list[OnlineFinding]) -> list[tuple[int, str, str]]:
    return [(f.line, f.code, ",".join(f.targets)) for f in findings]


def test_every_missing_dependency_is_reported_in_one_run_with_its_chain(
    server: IndexServer,
) -> None:
    findings, problems = online(server, line(REQUESTS) + line(IDNA), LINUX, WINDOWS)
    assert problems == []
    missing = {f.message.split(" ")[0]: f for f in findings if f.code == "HP210"}
    assert sorted(missing) == ["charset-normalizer<4,>=2", "urllib3<3,>=1.21.1"]
    urllib3 = missing["urllib3<3,>=1.21.1"]
    assert urllib3.line == 1  # on the line of the requirement that needs it
    assert urllib3.required_by == ["requests==2.32.3"]
    assert "required by requests==2.32.3" in urllib3.message
    assert urllib3.targets == [LINUX, WINDOWS]
    assert "(on every target)" in urllib3.message


def test_a_closed_file_is_clean(server: IndexServer) -> None:
    text = line(REQUESTS) + line(IDNA) + line(URLLIB3) + line(CHARSET_LINUX, CHARSET_WINDOWS)
    findings, problems = online(server, text, LINUX, WINDOWS)
    assert (findings, problems) == ([], [])


def test_a_dependency_only_some_targets_need(server: IndexServer) -> None:
    findings, _ = online(server, line(CLICK), LINUX, WINDOWS)
    assert codes(findings) == [(1, "HP210", WINDOWS)]
    assert findings[0].message.startswith("colorama is not in the file")
    findings, _ = online(server, line(APP), LINUX, OLD_LINUX)
    assert codes(findings) == [(1, "HP210", OLD_LINUX)]
    assert findings[0].message.startswith("tomli>=1.1 is not in the file")


def test_extras_are_followed(server: IndexServer) -> None:
    text = line(REQUESTS, extras="[socks]") + line(IDNA) + line(URLLIB3)
    text += line(CHARSET_LINUX, CHARSET_WINDOWS)
    findings, _ = online(server, text)
    assert [f.message.split(" ")[0] for f in findings] == ["PySocks!=1.5.7,>=1.5.6"]


def test_a_version_a_requirer_excludes_is_a_conflict(server: IndexServer) -> None:
    findings, _ = online(server, line(OLD_IDNA) + line(IDNA))
    assert codes(findings) == [(2, "HP211", LINUX)]
    assert findings[0].required_by == ["oldidna==1.0"]
    assert "idna==3.7 is excluded by oldidna==1.0, which requires idna<3" in findings[0].message


def test_stale_yanked_unknown_project_and_unknown_version(server: IndexServer) -> None:
    text = (
        f"idna==3.7 --hash=sha256:{IDNA.sha256} --hash=sha256:{'0' * 64}\n"
        + line(YANKED)
        + f"nosuchproject==1.0 --hash=sha256:{'1' * 64}\n"
        + f"idna-not==1.0 --hash=sha256:{'2' * 64}\n".replace("idna-not", "urllib3")
    )
    findings, _ = online(server, text)
    assert [(f.line, f.code) for f in findings] == [
        (1, "HP204"), (2, "HP203"), (3, "HP201"), (4, "HP202"),
    ]  # fmt: skip
    assert "broken build" in findings[1].message


def test_a_wheel_missing_for_one_target(server: IndexServer) -> None:
    findings, _ = online(server, line(LINUX_ONLY), LINUX, WINDOWS)
    assert codes(findings) == [(1, "HP207", WINDOWS)]
    text = "charset-normalizer==3.3.2 --hash=sha256:" + CHARSET_LINUX.sha256 + "\n"
    findings, _ = online(server, text, LINUX, WINDOWS)
    assert codes(findings) == [(1, "HP205", WINDOWS), (1, "HP206", WINDOWS)]


def test_a_warm_run_reads_no_metadata_again(server: IndexServer) -> None:
    text = line(REQUESTS) + line(IDNA) + line(URLLIB3) + line(CHARSET_LINUX, CHARSET_WINDOWS)
    online(server, text, LINUX, WINDOWS)
    before = server.hits
    assert online(server, text, LINUX, WINDOWS) == ([], [])
    after = server.hits
    metadata = [path for path in after if path.endswith(".metadata")]
    assert all(after[path] == before[path] for path in metadata)
    files = [path for path in after if path.startswith("/files/")]
    assert all(after[path] == before[path] for path in files)


# -- through the command line -----------------------------------------------------------------


def check_online(server: IndexServer, text: str, *args: str) -> tuple[int, str]:
    """``check --online`` on ``text`` as requirements.txt: the status and the file after."""
    Path("requirements.txt").write_text(text)
    status = main(["check", "--online", "--index-url", server.index_url, "--cache-dir", "cache",
                   *args, "requirements.txt"])  # fmt: skip
    return status, Path("requirements.txt").read_text()


def test_check_online_reports_in_every_format_and_never_writes(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = line(CLICK) + "unpinned\n"
    status, after = check_online(server, text, "--target", LINUX, "--target", WINDOWS)
    assert (status, after) == (1, text)
    out = capsys.readouterr().out
    assert "requirements.txt:1:1: HP210 colorama is not in the file" in out
    assert f"(on {WINDOWS})" in out
    assert "requirements.txt:2:1: HP001" in out  # the offline rules run as always
    check_online(server, text, "--target", LINUX, "--target", WINDOWS, "--format", "json")
    (finding,) = [
        f
        for f in json.loads(capsys.readouterr().out)["files"][0]["findings"]
        if f["code"] == "HP210"
    ]
    assert finding["targets"] == [WINDOWS]
    assert finding["required_by"] == ["click==8.1.7"]
    assert finding["rule"] == "missing-dependency"
    check_online(server, text, "--target", WINDOWS, "--format", "sarif")
    sarif = json.loads(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "HP210"]
    assert result["properties"]["targets"] == [WINDOWS]


def test_suppressions_and_settings_apply_to_online_rules(
    server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = line(CLICK).rstrip("\n") + "  # hashpin: ignore[missing-dependency]\n"
    status, _ = check_online(server, text, "--target", WINDOWS)
    assert status == 0
    assert capsys.readouterr().out == ""  # suppressed, and the suppression is not "unused"
    status, _ = check_online(server, line(CLICK), "--target", WINDOWS, "--ignore", "HP210")
    assert status == 0
    Path("pyproject.toml").write_text(f'[tool.hashpin]\ntargets = ["{WINDOWS}"]\n')
    status, _ = check_online(server, line(CLICK))
    assert status == 1 and "HP210" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "3.12:linux"], "names an unknown platform"),
        (["--target", "linux-x86_64"], "is not PY:PLATFORM"),
    ],
)
def test_a_bad_target_is_a_usage_error(
    server: IndexServer, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _ = check_online(server, line(IDNA), *args)
    assert status == 2
    assert message in capsys.readouterr().err


def test_target_without_online_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("a==1\n")
    assert main(["check", "--target", LINUX, "requirements.txt"]) == 2
    assert "--target needs --online" in capsys.readouterr().err


# -- faults -----------------------------------------------------------------------------------


def test_a_dependency_cycle_ends(server: IndexServer) -> None:
    ping = make_wheel("ping", "1.0", requires_dist=["pong"])
    pong = make_wheel("pong", "1.0", requires_dist=["ping"])
    server.add_project("ping", [ping])
    server.add_project("pong", [pong])
    assert online(server, line(ping) + line(pong)) == ([], [])
    findings, _ = online(server, line(ping))  # pong missing, and its own dependency is ping
    assert [(f.code, f.required_by) for f in findings] == [("HP210", ["ping==1.0"])]


def test_a_large_closure_is_read_in_one_run(server: IndexServer) -> None:
    count = 2000
    text = ""
    for number in range(count):
        dist = make_wheel(f"p{number}", "1.0", requires_dist=[f"p{(number + 1) % count}"])
        server.add_project(dist.project, [ServedFile(dist, core_metadata=True)])
        text += line(dist) if number != 7 else ""
    findings, problems = online(server, text)
    assert problems == []
    assert [(f.code, f.message.split(" ")[0]) for f in findings] == [("HP210", "p7")]


def test_malformed_metadata_and_an_sdist_with_dynamic_dependencies(server: IndexServer) -> None:
    from distmaker import make_sdist

    broken = Dist("broken-1.0-py3-none-any.whl", b"not a zip", "broken", "1.0")
    dynamic = make_sdist("dynamic", "1.0", metadata_version="2.2", dynamic=["Requires-Dist"])
    server.add_project("broken", [broken])
    server.add_project("dynamic", [dynamic])
    findings, problems = online(server, line(broken) + line(dynamic))
    assert problems == []
    assert [(f.line, f.code) for f in findings] == [(1, "HP213"), (2, "HP213"), (2, "HP214")]
    assert "not a zip file" in findings[0].message
    assert "Requires-Dist is dynamic" in findings[1].message


def test_a_metadata_file_with_a_wrong_digest_is_refused_and_not_cached(server: IndexServer) -> None:
    server.metadata_lies = True
    text = line(REQUESTS) + line(IDNA) + line(URLLIB3) + line(CHARSET_LINUX, CHARSET_WINDOWS)
    findings, _ = online(server, text)
    # requests and urllib3 offer PEP 658 files; the others are read from their wheels
    assert [(f.line, f.code, "refused" in f.message) for f in findings] == [
        (1, "HP213", True),
        (3, "HP213", True),
    ]
    server.metadata_lies = False
    assert online(server, text) == ([], [])  # the refused file was not kept


def test_an_index_that_fails_is_one_problem_and_the_rest_is_checked(server: IndexServer) -> None:
    server.failures["/simple/idna/"] = 100
    findings, problems = online(server, line(IDNA) + line(YANKED))
    assert len(problems) == 1 and problems[0].startswith("idna: ")
    assert [f.code for f in findings] == ["HP203"]


def test_refresh_hashes_fixes_stale_and_unhashed_files(server: IndexServer) -> None:
    text = (
        f"charset-normalizer==3.3.2 --hash=sha256:{CHARSET_LINUX.sha256} --hash=sha256:{'0' * 64}\n"
    )
    findings, _ = online(server, text, LINUX, WINDOWS)
    assert sorted({f.code for f in findings}) == ["HP204", "HP205", "HP206"]
    main(["fix", "--index-url", server.index_url, "--cache-dir", "cache", "--refresh-hashes",
          "requirements.txt"])  # fmt: skip
    assert online(server, Path("requirements.txt").read_text(), LINUX, WINDOWS) == ([], [])


def test_a_dependency_several_lines_need_is_reported_once(server: IndexServer) -> None:
    alpha = make_wheel("alpha", "1.0", requires_dist=["shared>=1"])
    beta = make_wheel("beta", "1.0", requires_dist=["shared"])
    for dist in (alpha, beta, make_wheel("shared", "1.0")):
        server.add_project(dist.project, [dist])
    findings, _ = online(server, line(alpha) + line(beta))
    assert [(f.line, f.code, f.required_by) for f in findings] == [(1, "HP210", ["alpha==1.0"])]


def test_an_index_that_times_out_is_one_problem_per_project(server: IndexServer) -> None:
    server.delay = 3  # every answer comes after the client's patience
    findings, problems = online(server, line(IDNA) + line(URLLIB3), timeout=0.5)
    assert findings == []
    assert sorted(problem.split(":")[0] for problem in problems) == ["idna", "urllib3"]
    assert all("timed out" in problem for problem in problems)
