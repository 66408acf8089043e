"""Output formats for a check report. Pure: each returns the text to print."""

from __future__ import annotations

from . import __version__
from .rules import ERROR, RULES, WARNING

TYPE_CHECKING = False  # typing itself costs milliseconds of start-up
if TYPE_CHECKING:
    from .rules import Finding, Report

FORMATS = ("text", "json", "github", "sarif")


def render(report: Report, format_name: str) -> str:
    return {"text": text, "json": json_report, "github": github, "sarif": sarif}[format_name](
        report
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def text(report: Report) -> str:
    """ruff's layout, ``path:line:col: CODE [*] message``; nothing at all when clean."""
    findings = report.findings
    if not findings:
        return ""
    lines = [
        f"{f.path}:{f.line}:{f.column}: {f.code} {'[*] ' if f.fixable else ''}{f.message}"
        for f in findings
    ]
    errors, warnings = report.count(ERROR), report.count(WARNING)
    summary = f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')}"
    fixable = sum(1 for f in findings if f.fixable)
    if fixable:
        summary += f" ({fixable} fixable)"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"


def _finding_object(finding: Finding) -> dict[str, object]:
    fields: dict[str, object] = {
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "column_line": finding.column_line,
        "code": finding.code,
        "rule": finding.rule.name,
        "severity": finding.severity,
        "requirement": finding.requirement,
        "message": finding.message,
        "fixable": finding.fixable,
    }
    fields.update(_online_fields(finding))
    return fields


def _online_fields(finding: Finding) -> dict[str, object]:
    """``targets`` (and ``required_by``) of an online finding; nothing for the others."""
    fields: dict[str, object] = {}
    for name in ("targets", "required_by"):
        value = getattr(finding, name, None)
        if value is not None:
            fields[name] = value
    return fields


def json_report(report: Report) -> str:
    import json

    document = {
        "version": 1,
        "files": [
            {"path": path, "findings": [_finding_object(f) for f in findings]}
            for path, findings in report.files.items()
        ],
        "summary": {
            "files": len(report.files),
            "errors": report.count(ERROR),
            "warnings": report.count(WARNING),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for f in report.findings:
        command = "error" if f.severity == ERROR else "warning"
        properties = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", f.path),
                ("line", f.line),
                ("col", f.column),
                ("endLine", f.end_line),
                ("title", f"{f.code} {f.rule.name}"),
            )
        )
        lines.append(f"::{command} {properties}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)


def sarif(report: Report) -> str:
    """SARIF 2.1.0: every rule described once in the driver, one result per finding."""
    import json

    index = {rule.code: position for position, rule in enumerate(RULES)}
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error" if f.severity == ERROR else "warning",
            "message": {"text": f.message},
            **({"properties": _online_fields(f)} if _online_fields(f) else {}),
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path.replace("\\", "/")},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                        },
                    }
                }
            ],
        }
        for f in report.findings
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hashpin",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.code,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "defaultConfiguration": {
                                    "level": "error" if rule.severity == ERROR else "warning"
                                },
                            }
                            for rule in RULES
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
