#!/usr/bin/env python3
"""The import graph of src/: which module uses which, and every circle.

Usage: scripts/modgraph.py [--src DIR] [--quiet]

Reads every `src/**/*.rs`, leaves out comments, strings and test code
(`#[cfg(test)]` items and the files of `#[cfg(test)] mod x;`), and
resolves each path that names another module of the crate:
`crate::a::b::Item`, `super::…`, `self::…`, a child module by name, and
(in the binary, `src/main.rs` and `src/cli/`) `repmail::…`. A name is
followed through re-exports (`pub use …`) to the module that defines it,
and a glob import (`use super::*`) counts only the names the file uses.

A node is a top-level module (`config`, `send`, …), or a second-level one
under config/, inbox/, send/ and schedule/ (`inbox::decoders`,
`send::smtp`); the parent file itself (`src/send/mod.rs`) is the node
`send`. A parent's `pub use child::Item` only shows the module's face and
is not an edge; any other use is.

Prints two graphs, the top-level modules alone and then with the second
level: each edge (`from -> to`, with the files that make it), then each
circle found (Tarjan's strongly connected components). Exit status 1 when there is a circle,
0 otherwise. Python 3 standard library only.
"""

import os
import re
import sys
from collections import defaultdict

SECOND_LEVEL = {"config", "inbox", "send", "schedule"}
BIN_ROOTS = {"main", "cli"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(code):
    """Code without comments, string and char literal contents."""
    out = []
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            i = n if j < 0 else j
        elif code.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if code.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif code.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', code[i:i + 10]) and not re.match(r"\w", code[i - 1:i] or " "):
            hashes = re.match(r'r(#*)"', code[i:]).group(1)
            end = code.find('"' + hashes, i + 2 + len(hashes))
            out.append('""')
            i = n if end < 0 else end + 1 + len(hashes)
        elif c == '"':
            i += 1
            while i < n and code[i] != '"':
                i += 2 if code[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'":
            if code.startswith("'\\", i):
                j = code.find("'", i + 3)
                out.append("' '")
                i = j + 1
            elif i + 2 < n and code[i + 2] == "'":
                out.append("' '")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_item(code, i):
    """The end of the item starting at `i`: its `;` or its closing brace."""
    depth = 0
    n = len(code)
    while i < n:
        c = code[i]
        if c == ";" and depth == 0:
            return i + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def drop_tests(code):
    """`code` without `#[cfg(test)]` items; and the names of test module files."""
    test_mods = set(re.findall(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code))
    while True:
        m = re.search(r"#\[cfg\(test\)\]", code)
        if not m:
            return code, test_mods
        code = code[:m.start()] + code[skip_item(code, m.end()):]


def depths(code):
    """The brace depth at each position of `code` (0: among a module's items)."""
    out, depth = [], 0
    for c in code:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        out.append(depth)
    return out


def parse_use_tree(text):
    """`a::{b, c::d as e}` -> [(["a", "b"], "b"), (["a", "c", "d"], "e")]."""
    text = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", text))
    results = []

    def walk(s, prefix):
        # s is one tree: path[::{...}] or path::* or path as alias
        if "{" in s:
            head, _, rest = s.partition("{")
            inner = rest[: rest.rfind("}")]
            head = [p for p in head.split("::") if p]
            for part in split_top(inner):
                if part == "self":
                    results.append((prefix + head, head[-1] if head else ""))
                elif part:
                    walk(part, prefix + head)
        else:
            alias = None
            if "@" in s:
                s, alias = s.split("@", 1)
            path = prefix + [p for p in s.split("::") if p]
            results.append((path, alias or path[-1]))

    walk(text, [])
    return results


def split_top(s):
    parts, depth, cur = [], 0, []
    for c in s:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p for p in parts if p]


class Module:
    def __init__(self, path, file, code):
        self.path = path  # tuple of names; () is the library root
        self.file = file
        self.code = code
        self.children = set()
        self.items = set()  # names defined here
        self.uses = []  # (path, alias, is_pub, is_glob)


def load(src):
    files = {}
    for root, _dirs, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, src)[:-3].split(os.sep)
                if rel[-1] == "mod":
                    rel = rel[:-1]
                if rel == ["lib"]:
                    rel = []
                with open(full, encoding="utf-8") as f:
                    files[tuple(rel)] = (full, f.read())
    modules, tests = {}, set()
    for path, (full, text) in files.items():
        code, test_mods = drop_tests(strip(text))
        for t in test_mods:
            tests.add(path + (t,))
        modules[path] = Module(path, full, code)
    # A test module's files and everything under them are test code.
    for path in list(modules):
        if any(path[:k] in tests for k in range(1, len(path) + 1)) or path[-1:] in (("tests",),):
            del modules[path]
    for path, m in modules.items():
        if path and path[:-1] in modules:
            modules[path[:-1]].children.add(path[-1])
        depth = depths(m.code)
        item = r"\b(?:struct|enum|fn|const|static|type|trait|union|mod)\s+(" + IDENT + ")"
        for mt in re.finditer(item, m.code):
            if depth[mt.start()] == 0:
                m.items.add(mt.group(1))
        for mt in re.finditer(r"macro_rules!\s*(" + IDENT + ")", m.code):
            m.items.add(mt.group(1))
        for mt in re.finditer(r"(pub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);", m.code):
            if depth[mt.start()] != 0:
                continue
            for p, alias in parse_use_tree(mt.group(2)):
                m.uses.append((p, alias, bool(mt.group(1)), p[-1] == "*"))
    return modules


class Resolver:
    def __init__(self, modules):
        self.modules = modules

    def start(self, mod, first):
        """The module a path's first segment names, seen from `mod`."""
        in_bin = mod.path[:1] == ("cli",) or mod.path == ("main",)
        if first == "crate":
            return () if not in_bin else ("<bin>",)
        if first == "repmail":
            return ()
        if first == "self":
            return mod.path
        if first == "super":
            return mod.path[:-1]
        if first in mod.children:
            return mod.path + (first,)
        if in_bin and first == "cli" and mod.path == ("main",):
            return ("cli",)
        return None

    def resolve(self, mod, segs, seen=None):
        """The module that defines what `segs` names (a module or an item)."""
        if not segs:
            return None
        cur = self.start(mod, segs[0])
        if cur is None:
            # a name brought in by a `use` of this module
            for p, alias, _pub, glob in mod.uses:
                if not glob and alias == segs[0] and p != segs[:1]:
                    return self.resolve(mod, p + segs[1:], seen)
            return None
        if cur == ("<bin>",):
            # crate:: in the binary: src/main.rs's own tree (cli::…)
            cur = ("cli",) if segs[1:2] == ["cli"] else None
            if cur is None:
                return None
            segs = segs[1:]
        i = 1
        while i < len(segs) and segs[i] == "super":
            cur, i = cur[:-1], i + 1
        for seg in segs[i:]:
            if seg == "*" or seg == "self":
                return cur
            m = self.modules.get(cur)
            if m is None:
                return cur
            if seg in m.children:
                cur = cur + (seg,)
                continue
            return self.item(m, seg, seen)
        return cur

    def item(self, m, name, seen=None):
        """Where item `name`, seen in module `m`, is defined."""
        seen = seen or set()
        if (m.path, name) in seen:
            return m.path
        seen.add((m.path, name))
        if name in m.items:
            return m.path
        for p, alias, _pub, glob in m.uses:
            if not glob and alias == name:
                r = self.resolve(m, p, seen)
                if r is not None:
                    return r
        for p, _alias, _pub, glob in m.uses:
            if glob:
                target = self.resolve(m, p[:-1] + ["self"] if len(p) > 1 else p, seen)
                t = self.modules.get(target) if target is not None else None
                if t is not None and self.has(t, name, set()):
                    return self.item(t, name, seen)
        return m.path

    def has(self, m, name, seen):
        if m.path in seen:
            return False
        seen.add(m.path)
        if name in m.items or name in m.children:
            return True
        for p, alias, _pub, glob in m.uses:
            if not glob and alias == name:
                return True
            if glob:
                target = self.resolve(m, p[:-1] + ["self"] if len(p) > 1 else p)
                t = self.modules.get(target) if target is not None else None
                if t is not None and self.has(t, name, seen):
                    return True
        return False


def node(path):
    if not path:
        return "lib"
    if path[0] in SECOND_LEVEL and len(path) > 1:
        return "::".join(path[:2])
    return path[0]


def edges(modules):
    r = Resolver(modules)
    out = defaultdict(set)  # (from, to) -> files
    for path, m in modules.items():
        here = node(path)
        targets = set()
        idents = set(re.findall(IDENT, m.code))
        for p, alias, is_pub, glob in m.uses:
            if glob:
                base = r.resolve(m, p[:-1] + ["self"] if len(p) > 1 else p)
                t = modules.get(base) if base is not None else None
                if t is None:
                    continue
                for name in idents - m.items:
                    if r.has(t, name, set()):
                        targets.add(r.item(t, name))
                continue
            target = r.resolve(m, p)
            if target is None:
                continue
            # A parent's `pub use child::Item` is its face, not a use.
            if is_pub and target[: len(path)] == path:
                continue
            # (only when the path names the module itself, not an item
            # defined in it: `use a::b::Item` resolves to `a::b` too)
            if target in modules and alias not in ("self",) and target[-1:] == tuple(p[-1:]):
                # a module brought into scope: what is used through it
                used = re.findall(r"\b" + re.escape(alias) + r"((?:::" + IDENT + ")+)", m.code)
                found = False
                for rest in used:
                    t2 = r.resolve(m, p + rest.split("::")[1:])
                    if t2 is not None:
                        targets.add(t2)
                        found = True
                if found:
                    continue
            targets.add(target)
        # paths written out in the code: crate::…, super::…, repmail::…, child::…
        first = r"crate|super|self|repmail|" + "|".join(map(re.escape, sorted(m.children))) if m.children else r"crate|super|self|repmail"
        for mt in re.finditer(r"(?<![A-Za-z0-9_:])((?:" + first + r")(?:::(?:" + IDENT + r"))+)", m.code):
            # a visibility (`pub(in crate::send)`) names no item used
            if m.code[max(0, mt.start() - 4) : mt.start()] == "(in ":
                continue
            # skip the use statements, done above
            line_start = m.code.rfind("\n", 0, mt.start()) + 1
            if re.match(r"\s*(pub(\([^)]*\))?\s+)?use\b", m.code[line_start:]):
                stmt_end = m.code.find(";", line_start)
                if stmt_end > mt.start():
                    continue
            t = r.resolve(m, mt.group(1).split("::"))
            if t is not None:
                targets.add(t)
        for t in targets:
            there = node(t) if t[:1] != ("<bin>",) else None
            if there and there != here:
                out[(here, there)].add(os.path.relpath(m.file))
    return out


def tarjan(graph):
    index, low, on, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def report(title, found, quiet):
    """Prints one graph's edges and circles; returns the number of circles."""
    graph = defaultdict(set)
    for (a, b) in found:
        graph[a].add(b)
        graph.setdefault(b, set())
    print(f"== {title}")
    if not quiet:
        for (a, b) in sorted(found):
            print(f"{a} -> {b}    ({', '.join(sorted(found[(a, b)]))})")
    sccs = tarjan(graph)
    for scc in sccs:
        members = set(scc)
        print("circle: " + " <-> ".join(scc))
        for a in scc:
            for b in sorted(graph[a] & members):
                print(f"    {a} -> {b}    ({', '.join(sorted(found[(a, b)]))})")
    if not sccs:
        print(f"no circle among {len(graph)} modules")
    return len(sccs)


# The module map of docs/design.md, top to bottom and left to right: a
# module may import only from the modules before it in this list (`cli`
# and `lib` wire everything, so they may import anything). Keep the two in
# step: a new module goes on the map and here.
LAYERS = [
    # foundations
    "problem", "address", "text", "time", "mbox", "outfile", "pages", "tls",
    # inputs
    "roster", "credentials", "providers", "config", "contacts", "ledger",
    # deciding
    "schedule", "render", "plan",
    # doing
    "diagnose", "imap", "sent", "send", "inbox", "preview", "scaffold",
    # reading back
    "review", "forms",
]


def layering(top):
    """Prints every import that runs against the map; returns how many."""
    rank = {m: i for i, m in enumerate(LAYERS)}
    bad = 0
    print("== against the map (docs/design.md)")
    for (a, b) in sorted(top):
        if a in ("cli", "lib", "<bin>"):
            continue
        for m in (a, b):
            if m not in rank:
                print(f"not on the map: {m}")
                bad += 1
                rank[m] = -1
        if rank[a] >= 0 and rank[b] >= 0 and rank[b] >= rank[a]:
            print(f"upward: {a} -> {b}    ({', '.join(sorted(top[(a, b)]))})")
            bad += 1
    if not bad:
        print(f"every import follows the map ({len(LAYERS)} modules)")
    return bad


def main(argv):
    src = "src"
    quiet = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--src":
            src = args.pop(0)
        elif a == "--quiet":
            quiet = True
        else:
            print(__doc__)
            return 2
    found = edges(load(src))
    top = defaultdict(set)
    for (a, b), files in found.items():
        a, b = a.split("::")[0], b.split("::")[0]
        if a != b:
            top[(a, b)] |= files
    circles = report("top-level modules", top, quiet)
    circles += report("second level under " + ", ".join(sorted(SECOND_LEVEL)) + "/", found, quiet)
    circles += layering(top)
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
