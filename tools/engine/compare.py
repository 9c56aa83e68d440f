"""What a change does to a stack: compare two synth documents (`python -m tools.synth <stack> --json`).

A resource is matched by URN, or by an alias the newer registration carries to the older
URN (a rename that Pulumi will not replace). Reported, per resource:

- added: in the new document only (Pulumi would create it);
- removed: in the old document only, and no new resource aliases it (Pulumi would delete it);
- renamed: matched through an alias (Pulumi keeps the live resource);
- re-parented: the same resource under another parent;
- changed: inputs, protection or retain-on-delete differ, with the input paths that changed; a file asset
  whose content changed (its `sha256`) is an in-place update of the code it ships.

Stack outputs that appear, disappear or change are reported too. Only inputs and options
count: mock state (ARNs, ids) follows from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# How many changed paths a resource lists before the rest are counted.
MAX_PATHS_SHOWN = 12


@dataclass(frozen=True)
class Changed:
    urn: str
    paths: list[str]  # `inputs.policy`, `inputs.tags.Owner`, `protect`, `retainOnDelete`


@dataclass(frozen=True)
class Comparison:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old URN, new URN)
    reparented: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (URN, old, new parent)
    changed: list[Changed] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # output names added, removed or changed
    compared: int = 0

    @property
    def identical(self) -> bool:
        """No resource would be created, deleted, replaced or updated, and the outputs are the same."""
        return not (self.added or self.removed or self.reparented or self.changed or self.outputs)


def _resources(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {resource["urn"]: resource for resource in document["resources"]}


def value_paths(old: Any, new: Any, path: str) -> Iterator[str]:
    """Every path at which two JSON values differ (JSON text inside a string is compared as JSON)."""
    old, new = _decoded(old), _decoded(new)
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        old, new = _comparable_assets(old, new)
        for key in sorted(old.keys() | new.keys(), key=str):
            yield from value_paths(old.get(key), new.get(key), f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (left, right) in enumerate(zip(old, new, strict=True)):
            yield from value_paths(left, right, f"{path}[{index}]")
    elif old != new:
        yield path


def _comparable_assets(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """A file asset's content digest counts only when both documents recorded one.

    Documents from before digests were recorded, or of a file absent when one was made (the
    connector JAR offline), name the file only; then the path is all there is to compare.
    """
    if "fileAsset" in old and "fileAsset" in new and ("sha256" in old) != ("sha256" in new):
        return {k: v for k, v in old.items() if k != "sha256"}, {k: v for k, v in new.items() if k != "sha256"}
    return old, new


def _decoded(value: Any) -> Any:
    """Policies and dashboard bodies are JSON strings: compare them by meaning, and name the path inside."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> Comparison:
    """The differences that would matter to a stack deployed from `old` if `new` were deployed."""
    before, after = _resources(old), _resources(new)
    result = Comparison(compared=len(after))
    matched: dict[str, str] = {}  # new URN -> old URN
    for urn in after:
        if urn in before:
            matched[urn] = urn
    for urn, resource in after.items():
        if urn in matched:
            continue
        for alias in resource.get("aliases") or []:
            if alias in before and alias not in matched.values():
                matched[urn] = alias
                result.renamed.append((alias, urn))
                break
    result.added.extend(sorted(urn for urn in after if urn not in matched))
    result.removed.extend(sorted(set(before) - set(matched.values())))
    for new_urn, old_urn in sorted(matched.items()):
        was, now = before[old_urn], after[new_urn]
        if was.get("parent") != now.get("parent") and not _same_parent(was, now, matched):
            result.reparented.append((new_urn, was.get("parent"), now.get("parent")))
        paths = list(value_paths(was.get("inputs"), now.get("inputs"), "inputs"))
        # Documents written before retainOnDelete was recorded lack the key: nothing to compare.
        options = [option for option in ("protect", "retainOnDelete") if option in was and option in now]
        paths.extend(option for option in options if bool(was[option]) != bool(now[option]))
        if paths:
            result.changed.append(Changed(new_urn, paths))
    old_outputs, new_outputs = old.get("outputs") or {}, new.get("outputs") or {}
    result.outputs.extend(
        sorted(key for key in old_outputs.keys() | new_outputs.keys() if old_outputs.get(key) != new_outputs.get(key))
    )
    return result


def _same_parent(was: Mapping[str, Any], now: Mapping[str, Any], matched: Mapping[str, str]) -> bool:
    """A parent that was itself renamed through an alias is the same parent."""
    parent = now.get("parent")
    return parent is not None and matched.get(parent) == was.get("parent")


def render(result: Comparison, stack: str, against: str) -> str:
    """The comparison as a person reads it: a count line, then one line per difference."""
    counts = (
        f"{len(result.added)} added, {len(result.removed)} removed, {len(result.renamed)} renamed (aliased), "
        f"{len(result.reparented)} re-parented, {len(result.changed)} changed, "
        f"{len(result.outputs)} outputs differ"
    )
    lines = [f"compare {stack} against {against}: {counts} ({result.compared} resources)"]
    lines += [f"  + added       {urn}" for urn in result.added]
    lines += [f"  - removed     {urn}" for urn in result.removed]
    lines += [f"  = renamed     {old} -> {new} (alias: no replacement)" for old, new in result.renamed]
    lines += [f"  ^ re-parented {urn}: {old} -> {new}" for urn, old, new in result.reparented]
    for changed in result.changed:
        lines.append(f"  ~ changed     {changed.urn}")
        lines += [f"      {path}" for path in changed.paths[:MAX_PATHS_SHOWN]]
        if len(changed.paths) > MAX_PATHS_SHOWN:
            lines.append(f"      … and {len(changed.paths) - MAX_PATHS_SHOWN} more paths")
    lines += [f"  * output      {name}" for name in result.outputs]
    if result.identical:
        lines.append("  no difference: a stack deployed from the older program would see no change")
    return "\n".join(lines)
