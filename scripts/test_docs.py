#!/usr/bin/env python3
"""Runs the code blocks of README.md and docs/*.md, so that no example can break silently.

Every fenced block declares its language. `console` blocks are sessions: each `$ command` (with
`\\` continuation lines) runs in one bash per document, and every line printed after it in the
block (but `...`) must be among what the command printed, stdout and stderr together, once
numbers, hex digests and runs of spaces are made alike; a command must exit 0 unless the block
shows an `error:` or `Error:` line for it. `sh` and `bash` blocks run in that bash too, stopping at
the first failing command. `python` blocks run with the package in python/ and the engine
library. Other languages (yaml, text, json, c, ...) are not run.

A block that must not run here says why on the line before its fence:

    <!-- test: skip: needs the network -->
    <!-- test: requires: torch -->          (runs when the Python used can import torch)
    <!-- test: same: cats dogs -->          (those words may stand for each other in its output)

The documents run in order (README.md first, then docs/ in the order of README's "Where to go
next"), one after another in one working folder, which is also HOME: what the walkthrough makes
(out/, run/, the dataset under ~/.cache/dataprep) is there for the reference pages, as it is for a
reader who follows them in order. In commands, 127.0.0.1:8765 stands for the loopback server the
caller started (DOCS_SERVER); in outputs, the working folder reads as /home/you.

    DATAPREP=... DATAPREP_ENGINE=... DOCS_SERVER=127.0.0.1:PORT DOCS_WORK=DIR scripts/test_docs.py [FILE...]

DATAPREP_PYTHON names the Python for python blocks (default: this one). Exit status 0 when every
block that runs passes; the report lists every block, run or skipped, with why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = [
    "README.md", "docs/install.md", "docs/commands.md", "docs/keras.md", "docs/python.md", "docs/remote-sets.md",
    "docs/scale-out.md", "docs/troubleshooting.md", "docs/shard-format.md", "docs/weights-format.md",
    "docs/python-engine.md", "docs/benchmarks.md", "docs/development.md",
]
RUN = {"console", "sh", "bash", "python"}
MARKER = re.compile(r"<!--\s*test:\s*(.*?)\s*-->")
FENCE = re.compile(r"^(`{3,})(.*)$")


@dataclass
class Block:
    path: str
    line: int
    language: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)


def blocks(path: str) -> list[Block]:
    """The fenced blocks of a document, each with the directives of the marker just before it."""
    lines = (ROOT / path).read_text(encoding="utf-8").split("\n")
    found, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, language = opening.group(1), opening.group(2).strip()
        start = index
        index += 1
        body = []
        while index < len(lines) and not lines[index].startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1
        directives = {}
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        if before >= 0 and (marker := MARKER.search(lines[before])):
            for part in marker.group(1).split(";"):
                key, _, value = part.strip().partition(":")
                directives[key.strip()] = value.strip()
        found.append(Block(path, start + 1, language, "\n".join(body), directives))
    return found


# MARK: - Links

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text, inside, found = path.read_text(encoding="utf-8"), False, set()
    for line in text.split("\n"):
        if FENCE.match(line):
            inside = not inside
        elif not inside and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def broken_links(path: str) -> list[str]:
    """Every relative link of a document that leads to no file, or to no heading of it."""
    problems = []
    text = (ROOT / path).read_text(encoding="utf-8")
    text = re.sub(r"^(`{3,}).*?^\1", "", text, flags=re.M | re.S)  # links inside code are not links
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        resolved = (ROOT / path).parent / file if file else ROOT / path
        if not resolved.exists():
            problems.append(f"{path}: the link {target} leads to no file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{path}: the link {target} leads to no heading of {resolved.relative_to(ROOT)}")
    return problems


# MARK: - Comparing outputs

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
HEX = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b")
PLURAL = re.compile(r"# ((?:training |validation )?)(\w+)")
SINGULAR = {"shards": "shard", "classes": "class", "copies": "copy", "images": "image", "samples": "sample", "epochs": "epoch",
            "parts": "part", "files": "file", "batches": "batch", "bytes": "byte"}


def normalized(line: str, same: list[str]) -> str:
    """A line with hex digests, numbers (and the plural after one) and runs of spaces made alike,
    and the `same` words as the first."""
    line = HEX.sub("#", line)
    line = NUMBER.sub("#", line)
    line = PLURAL.sub(lambda m: "# " + m.group(1) + SINGULAR.get(m.group(2), m.group(2)), line)
    for word in same[1:]:
        line = re.sub(rf"\b{re.escape(word)}\b", same[0], line)
    return " ".join(line.split())


def console_steps(text: str) -> list[tuple[str, list[str]]]:
    """The `$ command` lines of a console block, with the lines shown after each."""
    steps: list[tuple[str, list[str]]] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command = command[:-1] + " " + lines[index].strip()
            steps.append((command, []))
        elif steps:
            steps[-1][1].append(line)
        index += 1
    return steps


# MARK: - One bash per document

class Shell:
    """A bash that keeps its variables and folder between the commands of one document."""

    SENTINEL = "__dataprep_docs_done__"

    def __init__(self, environment: dict[str, str], work: str):
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=work, env=environment, text=True, bufsize=1)

    def run(self, command: str, errexit: bool = False) -> tuple[int, str]:
        """Runs `command`; its exit status (-1 when the shell died) and its output."""
        script = command if not errexit else f"(set -euo pipefail\n{command}\n)"
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{{ {script}\n}} </dev/null 2>&1; echo \"{self.SENTINEL} $?\"\n")
        self.process.stdin.flush()
        output = []
        for line in self.process.stdout:
            if line.startswith(self.SENTINEL):
                return int(line.split()[1]), "".join(output)
            output.append(line)
        return -1, "".join(output)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


# MARK: - Running

def python_can_import(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> int:
    if sys.argv[1:2] == ["--links"]:  # the links alone, quickly: scripts/test_docs.py --links
        problems = [p for path in [p for p in ORDER if (ROOT / p).exists()] for p in broken_links(path)]
        print("\n".join(problems) or "every link leads somewhere")
        return 1 if problems else 0
    dataprep = os.environ["DATAPREP"]
    work = os.environ.get("DOCS_WORK") or tempfile.mkdtemp(prefix="dataprep-docs-")
    server = os.environ.get("DOCS_SERVER", "127.0.0.1:8765")
    python = os.environ.get("DATAPREP_PYTHON", sys.executable)
    paths = sys.argv[1:] or [p for p in ORDER if (ROOT / p).exists()] + sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md") if str(p.relative_to(ROOT)) not in ORDER)
    bin_folder = os.path.join(work, ".bin")
    os.makedirs(bin_folder, exist_ok=True)
    link = os.path.join(bin_folder, "dataprep")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(dataprep, link)
    environment = {
        "PATH": bin_folder + ":/usr/local/bin:/usr/bin:/bin", "HOME": work, "DATAPREP_HOME": work + "/.cache/dataprep",
        "DATAPREP_SEARCH_PATH": "", "PYTHONPATH": str(ROOT / "python"), "LANG": "C.UTF-8", "COLUMNS": "100",
    }
    for key in ("DATAPREP_ENGINE", "OMP_NUM_THREADS", "TMPDIR"):
        if key in os.environ:
            environment[key] = os.environ[key]

    def shown(text: str) -> str:
        return text.replace(work, "/home/you").replace(server, "127.0.0.1:8765")

    failures, ran, skipped = [], 0, 0
    for path in paths:
        failures += broken_links(path)
        shell = Shell(environment, work)
        for block in blocks(path):
            where = f"{block.path}:{block.line}"
            if not block.language:
                failures.append(f"{where}: a block without a language (console, sh, python, text, ...)")
                continue
            if block.language not in RUN:
                continue
            if "skip" in block.directives:
                skipped += 1
                print(f"skipped {where} ({block.language}): {block.directives['skip']}")
                continue
            missing = [m for m in block.directives.get("requires", "").split() if not python_can_import(python, m)]
            if missing:
                skipped += 1
                print(f"skipped {where} ({block.language}): needs {', '.join(missing)} ({python} cannot import it)")
                continue
            ran += 1
            started = time.monotonic()
            same = block.directives.get("same", "").split()
            if block.language == "python":
                result = subprocess.run(
                    [python, "-c", block.text], cwd=work, env=environment, capture_output=True, text=True, timeout=900)
                if result.returncode != 0:
                    failures.append(f"{where}: python exited {result.returncode}:\n{result.stdout}{result.stderr}")
                print(f"ran {where} (python, {time.monotonic() - started:.1f} s)")
                continue
            if block.language in ("sh", "bash"):
                status, output = shell.run(block.text.replace("127.0.0.1:8765", server), errexit=True)
                if status != 0:
                    failures.append(f"{where}: the block exited {status}:\n{output}")
                print(f"ran {where} ({block.language}, {time.monotonic() - started:.1f} s)")
                continue
            for command, expected in console_steps(block.text):
                status, output = shell.run(command.replace("127.0.0.1:8765", server))
                actual = {normalized(line, same) for line in shown(output).split("\n")}
                wanted = [line for line in expected if line.strip() and line.strip() != "..."]
                shows_error = any(line.lstrip().startswith(("error:", "Error:")) for line in wanted)
                problems = []
                if status != 0 and not shows_error:
                    problems.append(f"exited {status}")
                if status == 0 and shows_error:
                    problems.append("exited 0 where the block shows an error")
                problems += [f"printed no line like: {line}" for line in wanted if normalized(line, same) not in actual]
                if problems:
                    failures.append(f"{where}: $ {command}\n  " + "\n  ".join(problems) + "\n--- it printed:\n" + shown(output))
            print(f"ran {where} (console, {time.monotonic() - started:.1f} s)")
        shell.close()
    for failure in failures:
        print("\nFAILED " + failure, file=sys.stderr)
    print(f"\ntest_docs: {ran} blocks ran, {skipped} skipped, {len(failures)} failed (working folder {work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
