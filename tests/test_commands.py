"""Every command a user is shown is one they can paste: `python -m <module>` in usage lines,
the project's own interpreter in the README, and modules that exist."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

from tools.engine.mocks import PROJECT_DIR

COMMAND_PACKAGES = ("tools", "streaming", "benchmarks")
README = PROJECT_DIR / "README.md"
# The interpreters `make setup` creates; a bare `python` is absent on many Debian machines.
INTERPRETERS = (".venv/bin/python", "streaming/.venv/bin/python")


def _parsers(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ArgumentParser"
    ]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__main__" else parts)  # a package's __main__ runs as the package


def test_every_command_line_parser_names_the_command_as_python_dash_m() -> None:
    """argparse's default prog is the file name (`access.py`), which is not how anyone runs it."""
    wrong = []
    for package in COMMAND_PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            for call in _parsers(path):
                prog = next((k.value for k in call.keywords if k.arg == "prog"), None)
                expected = f"python -m {_module_name(path)}"
                if not (isinstance(prog, ast.Constant) and prog.value == expected):
                    wrong.append(f"{path.relative_to(PROJECT_DIR)}:{call.lineno} needs prog={expected!r}")
    assert not wrong, "\n".join(wrong)


def readme_command_lines(text: str) -> list[str]:
    """Lines of the README's shell blocks, continuation lines joined."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        lines += [line.strip() for line in joined.splitlines() if line.strip()]
    return lines


def test_the_readme_runs_python_through_the_projects_interpreters_and_modules_that_exist() -> None:
    problems = []
    for line in readme_command_lines(README.read_text(encoding="utf-8")):
        for match in re.finditer(r"(\S*python3?)\s+(\S+)(?:\s+(\S+))?", line.split("#")[0]):
            interpreter, flag, module = match.groups()
            if interpreter == "python3" and flag == "-m" and module == "venv":
                continue
            if interpreter not in INTERPRETERS or flag != "-m":
                problems.append(f"{line!r}: run it as `{INTERPRETERS[0]} -m <module>`")
            elif importlib.util.find_spec(module) is None and not (PROJECT_DIR / Path(*module.split("."))).is_dir():
                problems.append(f"{line!r}: no module {module}")
    assert not problems, "\n".join(problems)


def test_prose_in_the_readme_names_no_bare_python_command() -> None:
    prose = re.sub(r"```.*?```", "", README.read_text(encoding="utf-8"), flags=re.S)
    prose = re.sub(r"<!-- config-reference:start.*?config-reference:end -->", "", prose, flags=re.S)
    # Generated blocks (the cost table) name their generator in a comment.
    prose = re.sub(r"<!--.*?-->", "", prose, flags=re.S)
    bare = [m.group(0) for m in re.finditer(r"(?<![\w/.])python -m \S+", prose)]
    assert not bare, f"say `{INTERPRETERS[0]} -m ...`: {bare}"
