"""Install targets: marker environments and wheel tags, with packaging as the oracle."""

from __future__ import annotations

import re

import pytest
from packaging import _manylinux, _musllinux
from packaging.tags import Tag, parse_tag, sys_tags

from hashpin.targets import TargetError, machine_target, parse_target


def wheel(tags: str) -> frozenset[Tag]:
    return frozenset(parse_tag(tags))


@pytest.mark.parametrize(
    ("target", "sys_platform", "platform_system", "platform_machine", "os_name"),
    [
        ("3.12:linux-x86_64", "linux", "Linux", "x86_64", "posix"),
        ("3.10:linux-aarch64", "linux", "Linux", "aarch64", "posix"),
        ("3.11:windows-amd64", "win32", "Windows", "AMD64", "nt"),
        ("3.13:macos-arm64", "darwin", "Darwin", "arm64", "posix"),
        ("3.12:macos-x86_64", "darwin", "Darwin", "x86_64", "posix"),
        ("3.12:manylinux_2_28_x86_64", "linux", "Linux", "x86_64", "posix"),
        ("3.12:musllinux_1_2_x86_64", "linux", "Linux", "x86_64", "posix"),
        ("3.12:win_arm64", "win32", "Windows", "ARM64", "nt"),
    ],
)
def test_each_target_has_the_marker_environment_of_such_a_machine(
    target: str, sys_platform: str, platform_system: str, platform_machine: str, os_name: str
) -> None:
    parsed = parse_target(target)
    python = target.split(":")[0]
    assert parsed.environment["python_version"] == python
    assert parsed.environment["python_full_version"] == python + ".0"
    assert parsed.environment["sys_platform"] == sys_platform
    assert parsed.environment["platform_system"] == platform_system
    assert parsed.environment["platform_machine"] == platform_machine
    assert parsed.environment["os_name"] == os_name
    assert parsed.environment["implementation_name"] == "cpython"
    assert parsed.environment["platform_python_implementation"] == "CPython"


def test_markers_are_evaluated_per_target() -> None:
    windows, linux = parse_target("3.12:windows-amd64"), parse_target("3.12:linux-x86_64")
    colorama = 'platform_system == "Windows"'  # click's dependency
    assert windows.marker_holds(colorama) and not linux.marker_holds(colorama)
    tomli = 'python_version < "3.11"'
    assert parse_target("3.10:linux-x86_64").marker_holds(tomli)
    assert not linux.marker_holds(tomli)
    socks = 'extra == "socks"'
    assert linux.marker_holds(socks, frozenset({"socks"})) and not linux.marker_holds(socks)
    assert linux.marker_holds(None)


@pytest.mark.parametrize(
    ("target", "accepted", "refused"),
    [
        ("3.12:linux-x86_64",
         ["cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp38-abi3-manylinux1_x86_64",
          "py3-none-any", "cp312-cp312-linux_x86_64"],
         ["cp312-cp312-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_17_x86_64",
          "cp312-cp312-musllinux_1_1_x86_64", "cp312-cp312-win_amd64",
          "cp312-cp312-manylinux_2_17_aarch64", "py2-none-any"]),
        ("3.12:manylinux_2_28_x86_64", ["cp312-cp312-manylinux_2_28_x86_64"],
         ["cp312-cp312-manylinux_2_34_x86_64"]),
        ("3.12:musllinux_1_2_x86_64", ["cp312-cp312-musllinux_1_1_x86_64"],
         ["cp312-cp312-manylinux_2_17_x86_64"]),
        ("3.13:macos-arm64", ["cp313-cp313-macosx_11_0_arm64", "cp313-cp313-macosx_10_13_universal2"],
         ["cp313-cp313-macosx_14_0_arm64", "cp313-cp313-macosx_10_13_x86_64"]),
        ("3.11:windows-amd64", ["cp311-cp311-win_amd64", "cp37-abi3-win_amd64"],
         ["cp311-cp311-win32", "cp311-cp311-win_arm64"]),
    ],
)  # fmt: skip
def test_wheel_tags_as_pip_accepts_them(
    target: str, accepted: list[str], refused: list[str]
) -> None:
    parsed = parse_target(target)
    for tags in accepted:
        assert parsed.accepts(wheel(tags)), tags
    for tags in refused:
        assert not parsed.accepts(wheel(tags)), tags


@pytest.mark.parametrize(
    ("glibc", "arch"), [((2, 28), "x86_64"), ((2, 31), "aarch64"), ((2, 17), "i686")]
)
def test_the_manylinux_ladder_is_the_one_packaging_builds_on_such_a_machine(
    monkeypatch: pytest.MonkeyPatch, glibc: tuple[int, int], arch: str
) -> None:
    monkeypatch.setattr(_manylinux, "_get_glibc_version", lambda: glibc)
    monkeypatch.setattr(_manylinux, "_have_compatible_abi", lambda executable, archs: True)
    expected = [*_manylinux.platform_tags([arch]), f"linux_{arch}"]
    assert parse_target(f"3.12:manylinux_{glibc[0]}_{glibc[1]}_{arch}").platforms == expected


def test_the_musllinux_ladder_is_the_one_packaging_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _musllinux, "_get_musl_version", lambda executable: _musllinux._MuslVersion(1, 2)
    )
    expected = [*_musllinux.platform_tags(["x86_64"]), "linux_x86_64"]
    assert parse_target("3.12:musllinux_1_2_x86_64").platforms == expected


def test_friendly_linux_is_manylinux2014() -> None:
    assert parse_target("3.12:linux-x86_64").platforms[:2] == [
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ]


def test_the_default_target_is_this_machine_as_pip_sees_it() -> None:
    machine = machine_target()
    assert machine.tags == list(sys_tags())
    import sys

    assert machine.python == sys.version_info[:2]
    assert machine.environment["sys_platform"] == sys.platform


@pytest.mark.parametrize(
    "text", ["3.12", "linux-x86_64", "3.12:", "3.12:linux", "3.12:windows", "2.7:linux-x86_64",
             "3.12:linux-sparc", "py3.12:linux-x86_64"],
)  # fmt: skip
def test_an_unknown_target_names_the_forms_accepted(text: str) -> None:
    with pytest.raises(TargetError, match=re.escape("3.12:linux-x86_64, 3.12:linux-aarch64")):
        parse_target(text)
