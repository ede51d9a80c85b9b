"""Loading a pyx12 XML map into definitions, and compiling its loops into a state table."""

from __future__ import annotations

import os
from functools import lru_cache
from xml.etree import ElementTree

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


def _text(node: ElementTree.Element, name: str, default: str | None = None) -> str | None:
    value = node.get(name)
    if value is None:
        value = node.findtext(name)
    return value.strip() if isinstance(value, str) else default


def _repeat(value: str | None) -> int | None:
    if value is None or value.startswith(">"):
        return None
    return int(value)


@lru_cache(maxsize=4)
def load_data_elements(directory: str = str(GUIDES_DIR)) -> dict[str, tuple[str, int, int, str]]:
    """The data-element dictionary: number -> (type, min length, max length, name)."""
    tree = ElementTree.parse(os.path.join(directory, "dataele.xml"))
    return {
        e.get("ele_num", ""): (
            e.get("data_type", "AN"),
            int(e.get("min_len", "1")),
            int(e.get("max_len", "1")),
            e.get("name", ""),
        )
        for e in tree.getroot().iter("data_ele")
    }


@lru_cache(maxsize=4)
def load_external_codes(directory: str = str(GUIDES_DIR)) -> dict[str, frozenset[str]]:
    tree = ElementTree.parse(os.path.join(directory, "codes.xml"))
    return {
        c.findtext("id", ""): frozenset(code.text or "" for code in c.iter("code"))
        for c in tree.getroot().iter("codeset")
    }


def _element(node: ElementTree.Element, position: int, directory: str) -> ElementDef:
    data_ele = _text(node, "data_ele", "") or ""
    usage = _text(node, "usage", "S") or "S"
    ref = node.get("xid", "")
    if node.tag == "composite":
        components = tuple(
            _element(child, i, directory)
            for i, child in enumerate((c for c in node if c.tag == "element"), 1)
        )
        name = _text(node, "name", data_ele) or data_ele
        return ElementDef(ref, position, data_ele, name, usage, "COMPOSITE", 0, 0, None, components)
    data_type, min_len, max_len, default_name = load_data_elements(directory).get(
        data_ele, ("AN", 1, 80, data_ele)
    )
    codes: frozenset[str] | None = None
    valid = node.find("valid_codes")
    if valid is not None:
        external = valid.get("external")
        if external:
            codes = load_external_codes(directory).get(external)
        else:
            codes = frozenset((c.text or "").strip() for c in valid.iter("code"))
    name = _text(node, "name", default_name) or default_name
    return ElementDef(ref, position, data_ele, name, usage, data_type, min_len, max_len, codes)


def _segment(node: ElementTree.Element, directory: str) -> SegmentDef:
    elements = []
    for child in node:
        if child.tag in ("element", "composite"):
            seq = _text(child, "seq")
            elements.append(_element(child, int(seq) if seq else len(elements) + 1, directory))
    elements.sort(key=lambda e: e.position)
    return SegmentDef(
        sid=node.get("xid", ""),
        name=_text(node, "name", "") or "",
        usage=_text(node, "usage", "S") or "S",
        max_use=_repeat(_text(node, "max_use")),
        elements=tuple(elements),
        syntax=tuple((s.text or "").strip() for s in node.findall("syntax")),
    )


def _children(node: ElementTree.Element, loop: LoopDef, directory: str) -> None:
    for child in node:
        if child.tag == "segment":
            seg = _segment(child, directory)
            seg.parent = loop
            loop.children.append(seg)
        elif child.tag == "loop":
            if child.get("type") == "wrapper":
                _children(child, loop, directory)  # table wrappers are transparent
                continue
            sub = LoopDef(
                xid=child.get("xid", ""),
                name=_text(child, "name", "") or "",
                usage=_text(child, "usage", "S") or "S",
                repeat=_repeat(_text(child, "repeat")),
                parent=loop,
            )
            _children(child, sub, directory)
            if sub.children:
                loop.children.append(sub)


@lru_cache(maxsize=64)
def load_guide(file: str, directory: str = str(GUIDES_DIR), hierarchy: tuple | None = None) -> Guide:
    """Read and compile one map file (cached: every guide is compiled once per process)."""
    root_node = ElementTree.parse(os.path.join(directory, file)).getroot()
    st_node = root_node.find(".//loop[@xid='ST_LOOP']")
    gs_node = root_node.find(".//segment[@xid='GS']")
    if st_node is None:
        raise ValueError(f"{file}: no ST_LOOP")
    body = LoopDef(xid="ST_LOOP", name="Transaction Set", usage="R", repeat=1)
    _children(st_node, body, directory)
    st = body.children.pop(0)
    se = body.children.pop()
    if not (isinstance(st, SegmentDef) and st.sid == "ST" and isinstance(se, SegmentDef) and se.sid == "SE"):
        raise ValueError(f"{file}: ST_LOOP must start with ST and end with SE")
    st01 = st.elements[0].codes or frozenset()
    version, functional_id = "", ""
    if gs_node is not None:
        gs = _segment(gs_node, directory)
        for e in gs.elements:
            if e.position == 8 and e.codes:
                version = min(e.codes)
            if e.position == 1 and e.codes:
                functional_id = min(e.codes)
    guide = _compile(
        set_id=min(st01) if st01 else "",
        title=_text(root_node, "name", file) or file,
        file=file,
        version=version,
        functional_id=functional_id,
        root=body,
        st=st,
        se=se,
    )
    if hierarchy:
        guide.hierarchy = {level: tuple(parents) for level, parents in hierarchy}
    return guide


# --- state table -----------------------------------------------------------------------

def _walk(loop: LoopDef, segments: list[SegmentDef], loops: list[LoopDef]) -> None:
    for child in loop.children:
        if isinstance(child, SegmentDef):
            child.state = len(segments)
            segments.append(child)
        else:
            child.index = len(loops)
            loops.append(child)
            _walk(child, segments, loops)


def _required_between(loop: LoopDef, start: int, stop: int) -> list[str]:
    missing = []
    for child in loop.children[start:stop]:
        if child.usage == "R":
            missing.append(child.sid if isinstance(child, SegmentDef) else child.first_segment().sid)
    return missing


def _entry_path(loop: LoopDef) -> list[LoopDef]:
    path = [loop]
    while not isinstance(path[-1].children[0], SegmentDef):
        path.append(path[-1].children[0])  # type: ignore[arg-type]
    return path


def _transition(position: tuple[LoopDef, int], sid: str) -> Transition | None:
    loop, index = position
    missing: list[str] = []
    innermost = True
    while True:
        # A loop's first segment never repeats inside one iteration: it starts the next.
        loop_start = index == 0 and loop.parent is not None
        start = index if innermost and index >= 0 and not loop_start else index + 1
        for j in range(start, len(loop.children)):
            child = loop.children[j]
            if isinstance(child, SegmentDef):
                if child.sid != sid:
                    continue
                missing += _required_between(loop, index + 1, j)
                kind = REPEAT if (innermost and j == index) else (COMPLEX if missing else SIMPLE)
                return Transition(child.state, kind, tuple(missing))
            path = _entry_path(child)
            first = path[-1].children[0]
            assert isinstance(first, SegmentDef)
            if first.sid == sid:
                missing += _required_between(loop, index + 1, j)
                return Transition(first.state, COMPLEX, tuple(missing), -1, tuple(p.index for p in path))
        if loop.parent is None:
            return None
        missing += _required_between(loop, index + 1, len(loop.children))
        path = _entry_path(loop)
        first = path[-1].children[0]
        assert isinstance(first, SegmentDef)
        if first.sid == sid:
            entered = tuple(p.index for p in path[1:])
            kind = LOOP if not missing and not entered and sid != "HL" else COMPLEX
            return Transition(first.state, kind, tuple(missing), loop.index, entered)
        parent = loop.parent
        index = parent.children.index(loop)
        loop = parent
        innermost = False


def _end_missing(position: tuple[LoopDef, int]) -> tuple[str, ...]:
    loop, index = position
    missing: list[str] = []
    while True:
        missing += _required_between(loop, index + 1, len(loop.children))
        if loop.parent is None:
            return tuple(missing)
        index = loop.parent.children.index(loop)
        loop = loop.parent


def _compile(*, set_id, title, file, version, functional_id, root, st, se) -> Guide:
    segments: list[SegmentDef] = [st]  # state 0: after ST
    loops: list[LoopDef] = []
    st.state = 0
    _walk(root, segments, loops)
    ids = frozenset(s.sid for s in segments[1:])
    positions = [(root, -1)] + [(s.parent, s.parent.children.index(s)) for s in segments[1:]]  # type: ignore[union-attr]
    transitions: list[dict[str, Transition]] = []
    for position in positions:
        table = {}
        for sid in ids:
            t = _transition(position, sid)  # type: ignore[arg-type]
            if t is not None and segments[t.target].usage == "N" and t.kind != COMPLEX:
                t = Transition(t.target, COMPLEX, t.missing, t.new_iteration, t.entered)
            if t is not None:
                table[sid] = t
        transitions.append(table)
    end_missing = [_end_missing(p) for p in positions]  # type: ignore[arg-type]
    return Guide(
        set_id=set_id,
        title=title,
        file=file,
        version=version,
        functional_id=functional_id,
        root=root,
        segments=segments,
        loops=loops,
        transitions=transitions,
        end_missing=end_missing,
        segment_ids=ids,
        st=st,
        se=se,
    )
