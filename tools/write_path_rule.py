"""Rule: only the write room (``engine/write/``) opens write transactions.

import-linter sees imports, not method calls, and every module reaches ``Database`` through
the ``Kap12`` object; so this small AST rule looks for calls of ``.writing()`` instead. A
place on ``KNOWN`` is an exception still waiting to be folded into the write room; an entry
that no longer matches is an error too, so the list only shrinks.

Run as ``python tools/write_path_rule.py`` (``make lint`` does); exit status 1 on a violation.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("engine", "processes", "webui")
WRITE_ROOM = "engine/write/"
RULE = "write-path"

# file -> why it still opens its own write transaction (remove the line when it is folded).
KNOWN: dict[str, str] = {
    # Reads stamp "last used" from the store and read rooms, which the write room builds on: in
    # engine/write/ the rooms would import each other.
    "engine/store/stamps.py": "stamps a key's or session's last use in its own short transaction, at most once a minute",
}


def write_calls(path: Path) -> list[int]:
    """Line numbers of ``<anything>.writing(...)`` calls in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "writing"]


def violations(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    seen_known: set[str] = set()
    for folder in CHECKED:
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(WRITE_ROOM):
                continue
            lines = write_calls(path)
            if not lines:
                continue
            if rel in KNOWN:
                seen_known.add(rel)
                continue
            found += [f"{rel}:{n}: [{RULE}] only engine/write/ opens write transactions (.writing()); "
                      f"call an engine.write function instead" for n in lines]
    found += [f"tools/write_path_rule.py: [{RULE}] {rel} is on KNOWN but opens no write transaction any more; "
              f"remove it from the list" for rel in sorted(set(KNOWN) - seen_known)]
    return found


def main() -> int:
    problems = violations()
    for line in problems:
        print(line)
    if not problems:
        print(f"{RULE}: kept ({len(KNOWN)} known exceptions)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
