#!/usr/bin/env python3
"""The manual's flag tables agree with `saturn CMD --help`, both ways (ctest, label doc).

The page convention it reads: a command's flags are the table right after the line
`<!-- flags: saturn CMD -->` (CMD may be empty for the top-level flags, or two words: `lang
sample`). Its first column names the flags (`--lengths`; `-o`, `--out`; positionals in capitals),
its second column gives the default:
  `X` (in backticks)  exactly when --help prints `--flag TYPE=X`;
  required            exactly when --help prints REQUIRED;
  TEXT                when --help's description says "(default: TEXT)";
  off or —            otherwise (a switch, or a flag without a default).
Checked: every flag in --help has a row (-h,--help and --help-all aside) and every row's flag is
in --help; the defaults agree; every command --help lists has a table; every `--flag` in a
console command or an inline code span that starts with `saturn CMD` exists in CMD's --help (or
is a top-level flag). And `<!-- keys: saturn train -->`: the key table lists every key that
`saturn train --help` prints, with the same default, and no key with a default that --help lacks.

Before it reports, it checks itself: a changed default, a dropped row and an unknown flag must
each be reported. Exit 0 when all agree, 1 when something differs (each difference one line).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

OPTION = re.compile(r"^  ((?:-\w,)?--?[\w-]+)((?: [A-Z]+(?:=\S+)?)?)((?: REQUIRED)?)(?: \.\.\.)?(?:\s{2,}(.*))?$")
DEFAULT_TEXT = re.compile(r"\(default: ([^()]*(?:\([^()]*\)[^()]*)*)\)")
FLAGS_MARK = re.compile(r"^<!--\s*flags:\s*saturn\s*(.*?)\s*-->\s*$")
KEYS_MARK = re.compile(r"^<!--\s*keys:\s*saturn train\s*-->\s*$")
ALWAYS = {"--help", "--help-all"}


class Help:
    """One command's --help: flags with their defaults, and its subcommands."""

    def __init__(self, text: str):
        self.defaults: dict[str, str] = {}  # every name -> the default the page must give
        self.groups: list[list[str]] = []  # the names of one flag (-o, --out)
        self.subcommands: list[str] = []
        self.keys: dict[str, str] = {}
        section = ""
        lines = text.split("\n")
        for n, line in enumerate(lines):
            if line and not line.startswith(" ") and line.endswith(":"):
                section = line[:-1]
                continue
            if line.startswith("# "):
                section = "keys"
                continue
            if section == "Options":
                m = OPTION.match(line)
                if not m:
                    continue
                names = m.group(1).split(",")
                if names[-1] in ALWAYS:
                    continue
                kind, required, description = m.group(2).strip(), m.group(3), m.group(4)
                if description is None and n + 1 < len(lines):  # a long name: described below
                    description = lines[n + 1].strip()
                d = DEFAULT_TEXT.search(description)
                if "=" in kind:
                    default = "`" + kind.split("=", 1)[1] + "`"
                elif required:
                    default = "required"
                elif d:
                    default = d.group(1)
                else:
                    default = "off|—"
                self.groups.append(names)
                for name in names:
                    self.defaults[name] = default
            elif section == "Subcommands":
                m = re.match(r"^  ([a-z][\w-]*)\s", line)
                if m:
                    self.subcommands.append(m.group(1))
            elif section == "keys":
                m = re.match(r"^(\w+) = (.*)$", line)
                if m:
                    self.keys[m.group(1)] = m.group(2)


def load_helps(saturn: str) -> dict[str, Help]:
    def help_of(cmd: str) -> Help:
        out = subprocess.run([saturn, *cmd.split(), "--help"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"help_flags: saturn {cmd} --help exited {out.returncode}")
        return Help(out.stdout)

    helps = {"": help_of("")}
    pending = [""]
    while pending:
        parent = pending.pop()
        for sub in helps[parent].subcommands:
            cmd = (parent + " " + sub).strip()
            helps[cmd] = help_of(cmd)
            pending.append(cmd)
    return helps


def cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def tables(lines: list[str], mark: re.Pattern[str]) -> list[tuple[int, str, list[list[str]]]]:
    """(line of the mark, what the mark names, the table's body rows as cells)."""
    found = []
    for i, line in enumerate(lines):
        m = mark.match(line)
        if not m:
            continue
        rows, j = [], i + 1
        while j < len(lines) and lines[j].startswith("|"):
            rows.append(cells(lines[j]))
            j += 1
        found.append((i + 1, m.group(1) if m.groups() else "", rows[2:] if len(rows) >= 2 else []))
    return found


def saturn_commands(lines: list[str]) -> list[tuple[int, str]]:
    """(line, text after 'saturn ') of every console command and inline code span that runs saturn
    (a span may run over a line break)."""
    found = []
    fenced = ""
    prose: list[tuple[int, str]] = []  # (line number, line) outside fences

    def spans() -> None:
        text = "\n".join(line for _, line in prose).replace("\\|", "|")
        for m in re.finditer(r"`([^`]+)`", text):
            s = re.match(r"^saturn\s+(.*)$", m.group(1), re.S)
            if s:
                found.append((prose[0][0] + text.count("\n", 0, m.start()), s.group(1)))
        prose.clear()

    for n, line in enumerate(lines, 1):
        fence = re.match(r"^\s*(```+)(.*)$", line)
        if fence:
            if not fenced:
                spans()
            fenced = "" if fenced else (fence.group(2).strip() or "plain")
            continue
        if fenced == "console":
            m = re.match(r"^\$ (?:.*?\s)?saturn\s+(.*)$", line)
            if m:
                found.append((n, m.group(1)))
        elif not fenced:
            prose.append((n, line))
    if prose:
        spans()
    return found


def command_of(words: list[str], helps: dict[str, Help]) -> str | None:
    for k in (2, 1):
        cmd = " ".join(words[:k])
        if len(words) >= k and cmd in helps:
            return cmd
    return None


def check_page(path: str, text: str, helps: dict[str, Help], documented: set[str]) -> list[str]:
    errors = []
    lines = text.split("\n")
    for line_no, cmd, rows in tables(lines, FLAGS_MARK):
        where = f"{path}:{line_no}: saturn {cmd}".rstrip()
        if cmd not in helps:
            errors.append(f"{where}: no such command")
            continue
        documented.add(cmd)
        expected = helps[cmd].defaults
        seen = set()
        for row in rows:
            if len(row) < 2:
                errors.append(f"{where}: a row without a default column: {row}")
                continue
            names = re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", row[0])
            for name in names:
                seen.add(name)
                if name not in expected:
                    errors.append(f"{where}: {name} is on the page but not in --help")
                    continue
                want, got = expected[name], row[1]
                if want == "off|—":
                    if got not in ("off", "—"):
                        errors.append(f"{where}: {name}: the page says default {got}, --help shows none")
                elif got != want:
                    errors.append(f"{where}: {name}: the page says default {got}, --help says {want}")
        for names in helps[cmd].groups:
            if not any(n in seen for n in names):
                errors.append(f"{where}: {names[-1]} is in --help but not on the page")
    for line_no, rest in saturn_commands(lines):
        words = re.split(r"\s+", rest.strip())
        cmd = command_of(words, helps)
        if cmd is None:
            continue
        usable = set(helps[cmd].defaults) | set(helps[""].defaults) | ALWAYS
        for word in words:
            if word in ("|", ">", ";", "&&", "||", "2>&1") or word.startswith((">", "|")):
                break
            for flag in re.findall(r"^\[?(--[a-z][\w-]*)", word):
                if flag not in usable:
                    errors.append(f"{path}:{line_no}: saturn {cmd}: {flag} is not in its --help")
    for line_no, _, rows in tables(lines, KEYS_MARK):
        keys = helps["train"].keys
        seen = set()
        for row in rows:
            names = re.findall(r"`(\w+)`", row[0])
            defaults = [d.strip() for d in row[1].split(",")] if len(row) > 1 else []
            for k, name in enumerate(names):
                seen.add(name)
                got = defaults[k] if k < len(defaults) else ""
                if name not in keys:
                    if got.startswith("`"):
                        errors.append(f"{path}:{line_no}: key {name} has default {got} on the page but none in train --help")
                elif got != "`" + keys[name] + "`":
                    errors.append(f"{path}:{line_no}: key {name}: the page says {got}, train --help says {keys[name]}")
        for name in keys:
            if name not in seen:
                errors.append(f"{path}:{line_no}: key {name} is in train --help but not in the key table")
    return errors


def self_test(pages: dict[str, str], helps: dict[str, Help]) -> list[str]:
    """Deliberate mistakes that the check must report."""
    failures = []
    path, text = next((p, t) for p, t in pages.items() if "<!-- flags: saturn train -->" in t)
    mistakes = {
        "a changed default": ("| `--per-length` | `100` |", "| `--per-length` | `101` |"),
        "a dropped row": ("| `--resume` |", "| `--not-resume` |"),
        "an unknown flag in a session": ("--out majority-hard", "--outt majority-hard"),
    }
    for what, (old, new) in mistakes.items():
        if old not in text:
            failures.append(f"self-test: {path} no longer contains {old!r} ({what})")
            continue
        if not check_page(path, text.replace(old, new, 1), helps, set()):
            failures.append(f"self-test: {what} was not reported")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saturn", required=True)
    parser.add_argument("repo", type=Path)
    args = parser.parse_args()
    helps = load_helps(args.saturn)
    paths = [args.repo / "README.md", *sorted((args.repo / "docs").glob("*.md"))]
    pages = {str(p.relative_to(args.repo)): p.read_text() for p in paths}
    errors: list[str] = []
    documented: set[str] = set()
    for path, text in pages.items():
        errors += check_page(path, text, helps, documented)
    for cmd, h in helps.items():
        if h.defaults and cmd not in documented:
            errors.append(f"saturn {cmd}: its flags have no table on any page".replace("saturn :", "saturn:"))
    errors += self_test(pages, helps)
    for e in errors:
        print(e)
    print(f"help_flags: {len(documented)} commands' flag tables checked against --help, "
          f"{len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
