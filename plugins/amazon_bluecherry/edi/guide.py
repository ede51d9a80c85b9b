"""Implementation guides: pyx12-format XML maps loaded and compiled for fast validation.

A guide is read once (``lru_cache``) into segment and loop definitions, then compiled into

* a state table: for every position in the transaction set (a segment definition) and every
  segment id, where that segment lands, which loops it enters or repeats and which
  mandatory segments it skipped -- so the validator walks loops with one dict lookup;
* one regular expression per segment definition and delimiter set that accepts exactly
  the valid segments (types, lengths, code lists, calendar dates, times, syntax rules), so
  the common path is a single ``re.fullmatch`` in C. Only a segment that does not match is
  diagnosed element by element (:func:`diagnose_segment`).

Split by responsibility: :mod:`.guide_model` (definitions), :mod:`.guide_maps` (XML maps and
the state table), :mod:`.guide_patterns` (regular expressions), :mod:`.guide_diagnosis`
(element-by-element checks); this module keeps the registry of partners and versions and
re-exports the names the validator and the tools use.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from amazon_bluecherry.edi.guide_diagnosis import (
    ElementIssue,
    diagnose_segment,
)
from amazon_bluecherry.edi.guide_maps import (
    load_data_elements,
    load_external_codes,
    load_guide,
)
from amazon_bluecherry.edi.guide_model import (
    COMPLEX,
    GUIDES_DIR,
    LOOP,
    REPEAT,
    SIMPLE,
    ElementDef,
    Guide,
    LoopDef,
    SegmentDef,
    Transition,
)
from amazon_bluecherry.edi.guide_patterns import (
    CompiledTables,
    forbidden_characters,
    guide_has_composites,
    segment_pattern,
    segment_regex,
    set_regex,
    usable_syntax,
)

__all__ = [
    "COMPLEX",
    "CompiledTables",
    "ElementDef",
    "ElementIssue",
    "GUIDES_DIR",
    "Guide",
    "GuideRegistry",
    "LOOP",
    "LoopDef",
    "Partner",
    "REPEAT",
    "SIMPLE",
    "SegmentDef",
    "Transition",
    "default_registry",
    "diagnose_segment",
    "forbidden_characters",
    "guide_has_composites",
    "load_data_elements",
    "load_external_codes",
    "load_guide",
    "segment_pattern",
    "segment_regex",
    "set_regex",
    "usable_syntax",
    "write_pyx12_map_dir",
]


@dataclass(frozen=True)
class Partner:
    name: str
    interchange_ids: frozenset[str]
    version_aliases: dict[str, str]
    guides: dict[str, dict[str, str]]
    hierarchy: dict[str, dict[str, tuple[str | None, ...]]]
    requirements: dict[str, Any] = field(default_factory=dict)  # set id -> requirements.SetRequirements
    unsupported: str | None = None  # why none of this partner's sets can be validated
    outbound_versions: dict[str, str] = field(default_factory=dict)  # set id -> GS08 we write it in


class GuideRegistry:
    """(partner, GS08 version, set id) -> compiled guide, from ``registry.yaml``."""

    def __init__(self, directory: str | os.PathLike = GUIDES_DIR, registry_file: str = "registry.yaml", *,
                 with_requirements: bool = True):
        from amazon_bluecherry.edi.requirements import parse_requirements

        self.directory = str(directory)
        with open(os.path.join(self.directory, registry_file), encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        self.default_partner: str = data["default_partner"]
        self.partners: dict[str, Partner] = {}
        for name, p in data["partners"].items():
            self.partners[name] = Partner(
                name=name,
                interchange_ids=frozenset(str(i) for i in p.get("interchange_ids", [])),
                version_aliases={str(k): str(v) for k, v in (p.get("version_aliases") or {}).items()},
                guides={str(v): {str(s): str(f) for s, f in sets.items()}
                        for v, sets in (p.get("guides") or {}).items()},
                hierarchy={
                    str(s): {str(level): tuple(parents) for level, parents in levels.items()}
                    for s, levels in (p.get("hierarchy") or {}).items()
                },
                requirements=parse_requirements(p.get("requirements")) if with_requirements else {},
                unsupported=p.get("unsupported"),
                outbound_versions={str(s): str(v) for s, v in (p.get("outbound_versions") or {}).items()},
            )
            for set_id, version in self.partners[name].outbound_versions.items():
                if self.resolve_version(name, version) is None or set_id not in self.partners[name].guides.get(
                        self.resolve_version(name, version), {}):
                    raise ValueError(f"{registry_file}: partner {name} sends {set_id} in {version}, "
                                     "but has no guide for it")

    def partner_for(self, sender: str, receiver: str) -> str:
        for partner in self.partners.values():
            if sender in partner.interchange_ids or receiver in partner.interchange_ids:
                return partner.name
        return self.default_partner

    def unsupported(self, partner: str) -> str | None:
        """Why ``partner``'s sets cannot be validated at all (no guides), or None."""
        p = self.partners.get(partner)
        return p.unsupported if p is not None else None

    def resolve_version(self, partner: str, version: str) -> str | None:
        p = self.partners.get(partner)
        if p is None:
            return None
        version = p.version_aliases.get(version, version)
        return version if version in p.guides else None

    def find(self, partner: str, version: str, set_id: str) -> Guide | None:
        p = self.partners.get(partner)
        resolved = self.resolve_version(partner, version)
        if p is None or resolved is None:
            return None
        file = p.guides[resolved].get(set_id)
        if file is None:
            return None
        hierarchy = p.hierarchy.get(set_id)
        key = tuple(sorted(hierarchy.items())) if hierarchy else None
        return load_guide(file, self.directory, key)

    def outbound_version(self, partner: str, set_id: str) -> str | None:
        """The GS08 ``partner`` agreed for ``set_id`` we send, or None (the deployment default applies)."""
        p = self.partners.get(partner)
        return p.outbound_versions.get(set_id) if p is not None else None

    def requirements(self, partner: str, set_id: str):
        """Amazon's rules inside ``set_id`` beyond the map (``requirements.SetRequirements``), or None."""
        p = self.partners.get(partner)
        return p.requirements.get(set_id) if p is not None else None

    def entries(self) -> list[tuple[str, str, str, str]]:
        """(partner, version, set id, map file) for every guide, plus aliases of versions."""
        out = []
        for p in self.partners.values():
            versions = {v: v for v in p.guides} | {
                a: v for a, v in p.version_aliases.items() if v in p.guides
            }
            for shown, actual in versions.items():
                for set_id, file in p.guides[actual].items():
                    out.append((p.name, shown, set_id, file))
        return out


@lru_cache(maxsize=1)
def default_registry() -> GuideRegistry:
    return GuideRegistry()


ISA_VERSIONS = (
    "00200",
    "00204",
    "00300",
    "00302",
    "00304",
    "00305",
    "00306",
    "00307",
    "00400",
    "00401",
    "00402",
    "00403",
    "00404",
    "00405",
    "00406",
    "00500",
    "00501",
    "00502",
    "00503",
    "00504",
)


def write_pyx12_map_dir(dest: str | os.PathLike, registry: GuideRegistry | None = None) -> Path:
    """Lay out the guides as a pyx12 ``map_path`` (with a ``maps.xml`` index) under ``dest``.

    pyx12 picks a map by (ISA12, GS08, GS01) and cannot tell two sets of one functional
    group apart, so every ISA12 we accept gets an entry for each of our (GS08, GS01).
    """
    registry = registry or default_registry()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(registry.directory):
        if name.endswith(".xml"):
            shutil.copy(os.path.join(registry.directory, name), dest / name)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<maps>"]
    for icvn in ISA_VERSIONS:
        lines.append(f'  <version icvn="{icvn}">')
        seen = set()
        for _partner, version, _set_id, file in registry.entries():
            guide = load_guide(file, registry.directory)
            key = (version, guide.functional_id)
            if key in seen:
                continue
            seen.add(key)
            lines.append(
                f'    <map vriic="{version}" fic="{guide.functional_id}" abbr="{guide.set_id}">{file}</map>'
            )
        control = "x12.control.00501.xml" if icvn >= "00501" else "x12.control.00401.xml"
        lines.append(f'    <map vriic="" fic="" abbr="X12">{control}</map>')
        lines.append("  </version>")
    lines.append("</maps>")
    (dest / "maps.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest
