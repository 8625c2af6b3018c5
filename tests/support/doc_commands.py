"""The shell commands of README.md and docs/DEPLOY.md, parsed out of their ```bash blocks, so the
tests run what the docs say (a doc change is a test change)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/DEPLOY.md")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class DocCommand:
    doc: str
    line: int  # 1-based line of the command's first line
    text: str  # as written, continuation lines joined
    block: tuple[str, ...]  # every command of its code block, in order

    @property
    def words(self) -> list[str]:
        """The command's words without leading `NAME=value` assignments and the comment."""
        words = shlex.split(self.text, comments=True)
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        return words

    @property
    def kind(self) -> str | None:
        """What it starts: `reflex run`, `reflex export`, `make <target>`; None for the rest."""
        words = self.words
        if not words:
            return None
        program = Path(words[0]).name
        if program == "reflex" and len(words) > 1 and words[1] in ("run", "export"):
            return f"reflex {words[1]}"
        if program == "make" and len(words) > 1 and words[1] in ("run", "dev", "lambda-zip"):
            return f"make {words[1]}"
        if "ingest_app" in words and "dev" in words:
            return "ingest_app dev"
        return None


def doc_commands(doc: str) -> list[DocCommand]:
    lines = (ROOT / doc).read_text().splitlines()
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] | None = None
    pending, start = "", 0
    for number, line in enumerate(lines, 1):
        if current is None:
            if line.strip() in ("```bash", "```sh", "```shell"):
                current = []
            continue
        if line.strip() == "```":
            blocks.append(current)
            current = None
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text and not text.startswith("#"):
            current.append((start, text))
    found = []
    for block in blocks:
        texts = tuple(text for _, text in block)
        found += [DocCommand(doc, number, text, texts) for number, text in block]
    return found


def all_doc_commands() -> list[DocCommand]:
    return [command for doc in DOCS for command in doc_commands(doc)]


def starting_commands(kind: str) -> list[DocCommand]:
    return [command for command in all_doc_commands() if command.kind == kind]
