#!/usr/bin/env python3
"""Runs the sessions of saturn's documentation and compares their output (`make doctest`).

A session is a fenced block whose info string is `console`:

    ```console
    $ saturn lang count anbn --lengths 0:4
    ...
    ```

Lines starting with `$ ` are commands (a command ending in ` \\` continues on the next line);
the lines up to the next command are what it prints, standard output and error together, as a
terminal shows them. What varies from machine to machine is marked where the reader sees it:

  ~0.984     a number that varies (trained figures depend on the CPU's vector width and the
             thread count; timings, speeds): any number matches, the text around it must not
             change
  ...        alone on a line: any number of lines, none included (progress lines, long listings
             cut short); inside a line: any text
Everything else must match exactly (trailing blanks aside).

Directives, an HTML comment on the line before a block's fence:
  <!-- doctest: file NAME -->    write the block (any fence) to NAME in the page's directory
  <!-- doctest: full -->         run only with --full (a block over the time budget)
  <!-- doctest: skip REASON -->  never run (say why: e.g. it needs MPI, or a machine's timings)
  <!-- doctest: needs MODULE -->  run only where /usr/bin/python3 imports MODULE (an optional
                                 dependency such as torch); elsewhere skipped, and said so

Each page runs in its own clean temporary directory, its blocks in order, its commands through
bash with `saturn` on the PATH (the build given), the repository's top-level entries linked in
(so `examples/...` resolves), threads pinned (SATURN_THREADS) and progress lines off; Python
imports `saturn` from the same build (PYTHONPATH=BUILD/python) when the build has the package. An
`--out`/`-o` that names one of those entries (`--out theory`) is refused: it would write into the
repository.

--update rewrites each page's sessions with what the commands printed now (`make
doc-sessions`), keeping the markers: a marked number takes the new value, `...` lines stay.
Where the new output does not fit the markers the block takes the output verbatim and the
runner names it, for a person to mark what varies.

Exit 0 when every session matched (or was rewritten), 1 when one differed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan"
MARKED = re.compile(r"~(" + NUMBER + r")")
DIRECTIVE = re.compile(r"^<!--\s*doctest:\s*(\w[\w-]*)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(`{3,})(.*)$")


class BadInput(Exception):
    pass


@dataclass
class Command:
    text: str  # as bash runs it (continuations joined by newlines)
    expected: list[str] = field(default_factory=list)
    first_line: int = 0  # of the command in the page, 1-based


@dataclass
class Block:
    kind: str  # "session" or "file"
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    directive: str = ""
    argument: str = ""
    commands: list[Command] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


def parse_page(path: Path, lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).strip()
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != fence:
            j += 1
        if j == len(lines):
            raise BadInput(f"{path}:{i + 1}: a fence that is never closed")
        directive, argument = "", ""
        d = DIRECTIVE.match(lines[i - 1]) if i > 0 else None
        if d:
            directive, argument = d.group(1), d.group(2)
            if directive not in ("file", "full", "skip", "needs"):
                raise BadInput(f"{path}:{i}: unknown doctest directive '{directive}'")
            if directive in ("file", "needs") and not argument:
                raise BadInput(f"{path}:{i}: 'doctest: {directive}' needs a "
                               f"{'file' if directive == 'file' else 'module'} name")
        body = lines[i + 1 : j]
        if directive == "file":
            blocks.append(Block("file", i, j, directive, argument, body=body))
        elif info == "console":
            block = Block("session", i, j, directive, argument, body=body)
            block.commands = parse_session(path, i + 1, body)
            blocks.append(block)
        elif any(line.startswith("$ ") for line in body):
            raise BadInput(f"{path}:{i + 1}: a session in a '{info or 'plain'}' fence: "
                           "fence it as ```console so that it runs")
        i = j + 1
    return blocks


def parse_session(path: Path, first: int, body: list[str]) -> list[Command]:
    commands: list[Command] = []
    k = 0
    while k < len(body):
        line = body[k]
        if line.startswith("$ "):
            start = k
            text = line[2:]
            while text.endswith("\\") and k + 1 < len(body):
                k += 1
                text += "\n" + body[k]
            commands.append(Command(text, first_line=first + start + 1))
        elif not commands:
            raise BadInput(f"{path}:{first + k + 1}: output before the session's first '$ '")
        else:
            commands[-1].expected.append(line.rstrip())
        k += 1
    if not commands:
        raise BadInput(f"{path}:{first}: a console block with no '$ ' command")
    return commands


def pattern(expected: list[str]) -> re.Pattern[str]:
    """The regex an output must match in full: one group per marked number."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        out, pos = "", 0
        for m in MARKED.finditer(line):
            out += literal(line[pos : m.start()]) + "(" + NUMBER + ")"
            pos = m.end()
        parts.append(out + literal(line[pos:]) + r"[ \t]*\n")
    return re.compile("".join(parts), re.S)


def literal(text: str) -> str:
    return r"[^\n]*?".join(re.escape(piece) for piece in text.split("..."))


def normalise(output: str) -> str:
    lines = [line.rstrip() for line in output.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "".join(line + "\n" for line in lines)


def matches(expected: list[str], actual: str) -> re.Match[str] | None:
    return pattern(expected).fullmatch(actual)


def rewritten(expected: list[str], actual: str) -> tuple[list[str], bool]:
    """The expected lines with the new output, markers kept; (lines, whether they fit)."""
    m = matches(expected, actual)
    if not m:
        return actual.splitlines(), False
    values = iter(m.groups())
    out = [MARKED.sub(lambda _: "~" + next(values), line) for line in expected]
    return out, True


def run_command(cmd: Command, cwd: Path, env: dict[str, str], timeout: float) -> str:
    try:
        p = subprocess.run(["bash", "-c", cmd.text], cwd=cwd, env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        return normalise(p.stdout)
    except subprocess.TimeoutExpired:
        return f"(doctest: timed out after {timeout:g} s)\n"


def importable(module: str) -> bool:
    """Whether Debian's Python (the one the package is built for) imports module."""
    return subprocess.run(["/usr/bin/python3", "-c", f"import {module}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def page_dir(repo: Path) -> Path:
    d = Path(tempfile.mkdtemp(prefix="saturn-doctest-"))
    for entry in repo.iterdir():
        if entry.name in (".git",) or entry.name.startswith("build"):
            continue
        (d / entry.name).symlink_to(entry)
    return d


OUTPUT_FLAG = re.compile(r"(?:^|\s)(?:--out|-o)[ =](\S+)")


def refuse_repo_outputs(path: Path, blocks: list[Block], repo: Path) -> None:
    """A session's output directory must not be a linked repository entry (`--out theory` would
    write into the source tree's theory/)."""
    linked = {e.name for e in repo.iterdir() if e.name != ".git" and not e.name.startswith("build")}
    for block in blocks:
        for cmd in block.commands:
            for target in OUTPUT_FLAG.findall(cmd.text):
                first = target.strip("'\"").split("/")[0]
                if first in linked:
                    raise BadInput(f"{path}:{cmd.first_line}: '{target}' is the repository's "
                                   f"{first} (linked into the page's directory): write elsewhere")


def run_page(path: Path, args: argparse.Namespace, env: dict[str, str],
             out: io.StringIO) -> tuple[int, int, int]:
    """(sessions run, sessions that differed, sessions rewritten); what it reports goes to out."""
    lines = path.read_text().split("\n")
    blocks = parse_page(path, lines)
    refuse_repo_outputs(path, blocks, args.repo)
    work = page_dir(args.repo)
    ran = differed = changed = 0
    replacements: list[tuple[Block, list[str]]] = []
    try:
        for block in blocks:
            if block.kind == "file":
                target = work / block.argument
                if target.is_symlink():
                    target.unlink()
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("\n".join(block.body) + "\n")
                continue
            if block.directive == "skip" or (block.directive == "full" and not args.full):
                continue
            if block.directive == "needs" and not importable(block.argument):
                print(f"{path}:{block.start + 1}: skipped: needs the Python module "
                      f"'{block.argument}'", file=out)
                continue
            ran += 1
            started = time.monotonic()
            new_body: list[str] = []
            block_differs = False
            for cmd in block.commands:
                actual = run_command(cmd, work, env, args.timeout)
                new_body += ["$ " + cmd.text.split("\n")[0]] + cmd.text.split("\n")[1:]
                if matches(cmd.expected, actual):
                    new_body += rewritten(cmd.expected, actual)[0] if args.update else cmd.expected
                    continue
                block_differs = True
                lines_new, fits = rewritten(cmd.expected, actual)
                new_body += lines_new
                if args.update:
                    marked = any(MARKED.search(x) or "..." in x for x in cmd.expected)
                    note = " (the marks no longer fit: taken verbatim)" if marked and not fits else ""
                    print(f"{path}:{cmd.first_line}: rewritten{note}", file=out)
                else:
                    print(f"{path}:{cmd.first_line}: $ {cmd.text.splitlines()[0]}", file=out)
                    diff = difflib.unified_diff(cmd.expected, actual.splitlines(), "documented",
                                                "printed now", lineterm="", n=2)
                    print("\n".join("    " + d for d in diff), file=out)
            if args.verbose:
                print(f"{path}:{block.start + 1}: {time.monotonic() - started:.1f} s", file=out)
            if block_differs:
                differed += 1
            if args.update and new_body != block.body:
                replacements.append((block, new_body))
                changed += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.update and replacements:
        for block, body in reversed(replacements):
            lines[block.start + 1 : block.end] = body
        path.write_text("\n".join(lines))
    return ran, differed, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, help="Markdown files")
    parser.add_argument("--saturn", type=Path, required=True, help="the saturn binary to run")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--threads", type=int, default=2, help="SATURN_THREADS for every command")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument("--full", action="store_true", help="also the blocks marked full")
    parser.add_argument("--update", action="store_true", help="rewrite the sessions' output")
    parser.add_argument("-v", "--verbose", action="store_true", help="each session's time")
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="pages run at once (each in its own directory; reports in page order)")
    args = parser.parse_args()
    saturn = args.saturn.resolve()
    if not os.access(saturn, os.X_OK):
        print(f"doctest: --saturn: {args.saturn} is not an executable", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.update(PATH=f"{saturn.parent}:{env.get('PATH', '/usr/bin:/bin')}", LC_ALL="C.UTF-8",
               SATURN_THREADS=str(args.threads), SATURN_PROGRESS_SECONDS="0", COLUMNS="100")
    # `import saturn` (docs/python.md) from the same build as the binary, when it has the package.
    if (saturn.parent / "python" / "saturn").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(saturn.parent / "python"), env.get("PYTHONPATH")) if p)
    total = bad = rewrote = 0
    try:
        for page in args.pages:
            if not page.is_file():
                raise BadInput(f"{page}: no such file")
        # Pages in parallel (subprocess-bound, so threads suffice); each page's report is
        # printed whole, in the order given.
        outs = [io.StringIO() for _ in args.pages]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_page, page, args, env, out)
                       for page, out in zip(args.pages, outs)]
            for future, out in zip(futures, outs):
                r, d, c = future.result()
                print(out.getvalue(), end="", flush=True)
                total, bad, rewrote = total + r, bad + d, rewrote + c
    except BadInput as e:
        print(f"doctest: {e}", file=sys.stderr)
        return 2
    if args.update:
        print(f"doctest: {total} sessions run, {rewrote} rewritten")
        return 0
    print(f"doctest: {total} sessions run, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
