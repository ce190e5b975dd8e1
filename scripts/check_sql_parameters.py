#!/usr/bin/env python3
"""Fails when SQL in src/storage is built by concatenating values instead of binding them.

Every statement (C++ up to ';', '{' or '}') of src/storage/*.cc|h (tests excepted) that has a
string literal looking like SQL (an upper-case keyword: SELECT, WHERE, VALUES, ...) and also a
'+' / '+=' or a format call outside its literals is a concatenation. Each one must be listed in
scripts/sql_concat_allowlist.txt with why it is safe (identifiers from the schema, quoted; numbers
the code made; constant fragments). A new one fails the check: bind the value with $N instead,
or, if it really is constant, add it to the list with its justification.

Usage: check_sql_parameters.py [SOURCE_DIR]        (ctest runs it; exit 1 on a violation)
       check_sql_parameters.py --self-test         (the scanner finds what it should)
"""
import pathlib
import re
import sys

SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|VALUES|SET|CREATE|DROP|ALTER|JOIN|ORDER BY|"
    r"GROUP BY|LIMIT|OFFSET|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|RETURNING|ON CONFLICT|INTO|"
    r"TRUNCATE|COPY|GRANT|EXCLUDED|OVERRIDING)\b")
CONCAT = re.compile(r"(?<![+])\+(?![+])|\+=|\b(fmt::format|std::format|snprintf|sprintf)\b")


def tokens(text):
    """Yields (kind, value, line): kind is 'str' for a string literal (its contents), 'code'."""
    i, line, n = 0, 1, len(text)
    code_start, code_line = 0, 1
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            yield "code", text[code_start:i], code_line
            i = code_start = j
            code_line = line
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield "code", text[code_start:i], code_line
            line += text.count("\n", i, j)
            i = code_start = j
            code_line = line
            continue
        raw = re.match(r'(?:u8|u|U|L)?R"([^(\s]*)\(', text[i:i + 40])
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            yield "code", text[code_start:i], code_line
            end = ")" + raw.group(1) + '"'
            start = i + raw.end()
            j = text.find(end, start)
            j = n if j < 0 else j
            yield "str", text[start:j], line
            line += text.count("\n", i, j)
            i = code_start = j + len(end)
            code_line = line
            continue
        if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            yield "code", text[code_start:i], code_line
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                yield "str", text[i + 1:j], line
            i = code_start = j + 1
            code_line = line
            continue
        if c == "\n":
            line += 1
        i += 1
    yield "code", text[code_start:], code_line


def statements(text):
    """Yields (first_line, [(kind, value)]) per statement."""
    current, first = [], None
    for kind, value, line in tokens(text):
        if kind == "str":
            current.append(("str", value))
            first = first or line
            continue
        start = 0
        for k, ch in enumerate(value):
            if ch in ";{}":
                piece = value[start:k]
                if piece.strip():
                    current.append(("code", piece))
                    first = first or line + value.count("\n", 0, start)
                if current:
                    yield first, current
                current, first = [], None
                start = k + 1
        piece = value[start:]
        if piece.strip():
            current.append(("code", piece))
            first = first or line + value.count("\n", 0, start)
    if current:
        yield first, current


def normalise(parts):
    """The statement as one line: literals as "...", white space collapsed, at most 160 chars."""
    text = "".join('"' + v + '"' if k == "str" else v for k, v in parts)
    return re.sub(r"\s+", " ", text).strip()[:160]


LEX = re.compile(r"\s*(\+=|\+\+|--|->|::|==|!=|<=|>=|&&|\|\||[A-Za-z_][\w]*|\d[\w.]*|\S)")
CONSTANT = re.compile(r"^(std::)?(string|string_view)?$")


def lex(parts):
    out = []
    for kind, value in parts:
        if kind == "str":
            # Adjacent literals are one literal.
            if out and out[-1][0] == "str":
                out[-1] = ("str", out[-1][1] + value)
            else:
                out.append(("str", value))
            continue
        for m in LEX.finditer(value):
            if m.group(1):
                out.append(("op", m.group(1)))
    return out


class Chains:
    """Parses a statement's tokens and collects every '+' chain with its operands' classes:
    'sql' (an SQL literal, or a group holding one), 'const' (a literal, a kConstant, a ternary
    of those) or 'value' (anything else: a variable, a call's result)."""

    def __init__(self, toks):
        self.toks, self.i, self.found = toks, 0, []

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def expression(self, stop):
        """Parses up to a token in `stop` (not consumed); returns the class of the whole."""
        classes, chain, seen_question = [], [], False
        while True:
            kind, value = self.peek()
            if kind == "end" or (kind == "op" and value in stop):
                break
            if kind == "op" and value == "+":
                self.i += 1
                continue
            if kind == "op" and value in ("?", ":", ",", "=", "==", "!=", "&&", "||", "<", ">",
                                          "<<", "-", "*", "/", "return", "!"):
                if value == "?":
                    chain, seen_question = [], True  # the condition only selects a branch
                self.flush(chain, classes)
                chain = []
                self.i += 1
                continue
            if kind == "op" and value == "+=":
                self.i += 1
                chain = ["const"]  # the target: checked when it was built
                continue
            chain.append(self.operand())
        self.flush(chain, classes)
        if "sql" in classes:
            return "sql"
        return "const" if all(c == "const" for c in classes) else "value"

    def flush(self, chain, classes):
        if len(chain) > 1 and "sql" in chain and "value" in chain:
            self.found.append(True)
        if chain:
            classes.append("sql" if "sql" in chain else
                           "const" if all(c == "const" for c in chain) else "value")

    def operand(self):
        kind, value = self.peek()
        self.i += 1
        if kind == "str":
            return "sql" if SQL_WORD.search(value) else "const"
        if value == "(":
            inner = self.expression({")"})
            self.i += 1
            return inner
        # A name (with ::, ., -> parts), perhaps called: std::string(kX) is kX.
        name = value
        while self.peek()[1] in ("::", ".", "->") or (
                name.endswith(("::", ".", "->")) and self.peek()[0] == "op"):
            name += self.peek()[1]
            self.i += 1
        if self.peek()[1] in ("(", "{"):
            close = ")" if self.peek()[1] == "(" else "}"
            self.i += 1
            args = []
            while self.peek()[1] != close and self.peek()[0] != "end":
                args.append(self.expression({",", close}))
                if self.peek()[1] == ",":
                    self.i += 1
            self.i += 1
            if name in ("std::string", "std::string_view", "string", "string_view") and args:
                return args[0]
            return "value"
        if re.fullmatch(r"k[A-Z]\w*", name) or re.fullmatch(r"\d[\w.]*", name):
            return "const"
        return "value"


def violations(path, text):
    found = []
    for line, parts in statements(text):
        if not any(k == "str" and SQL_WORD.search(v) for k, v in parts):
            continue
        if not any(k == "code" and CONCAT.search(v) for k, v in parts):
            continue
        parser = Chains(lex(parts))
        try:
            while parser.peek()[0] != "end":
                parser.expression(set())
                parser.i += 1
        except IndexError:
            parser.found.append(True)  # unparsable: look at it
        if parser.found or re.search(r"\b(fmt::format|std::format|s?n?printf)\b", normalise(parts)):
            found.append((line, normalise(parts)))
    return found


def load_allowlist(path):
    allowed = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split(" | ")
        if len(fields) != 3 or not fields[2].strip():
            sys.exit(f"{path}:{number}: want 'file | statement | why it is safe'")
        allowed[(fields[0].strip(), fields[1].strip())] = fields[2].strip()
    return allowed


def self_test():
    bad = 'auto s = db.Prepare("SELECT * FROM servers WHERE name = \'" + name + "\'", "x");\n'
    multi = 'std::string sql =\n    R"sql(DELETE FROM t WHERE id = )sql" +\n    std::to_string(id);\n'
    good = 'auto s = db.Prepare("SELECT * FROM servers WHERE name = $1", "x");\n'
    message = 'return Fail("cannot read " + name + " from the file");\n'
    commented = '// "SELECT " + x;\nint y = 1 + 2;\n'
    checks = [(bad, 1), (multi, 1), (good, 0), (message, 0), (commented, 0)]
    for text, want in checks:
        got = len(violations("t.cc", text))
        if got != want:
            print(f"self-test: {got} violations, want {want}, in:\n{text}")
            return 1
    print(f"self-test: {len(checks)} cases ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).parent.parent)
    allowlist_path = root / "scripts" / "sql_concat_allowlist.txt"
    allowed = load_allowlist(allowlist_path)
    used, failures, scanned = set(), [], 0
    for path in sorted((root / "src" / "storage").glob("*")):
        if path.suffix not in (".cc", ".h") or path.stem.endswith("_test"):
            continue
        scanned += 1
        rel = path.relative_to(root).as_posix()
        for line, statement in violations(rel, path.read_text()):
            if (rel, statement) in allowed:
                used.add((rel, statement))
            else:
                failures.append(f"{rel}:{line}: SQL built by concatenation: {statement}")
    for key in sorted(set(allowed) - used):
        print(f"note: allowlist entry no longer matches anything (remove it): {' | '.join(key)}")
    if failures:
        print("\n".join(failures))
        print(f"\n{len(failures)} statement(s) build SQL from values: bind them as $N parameters, "
              f"or, for constant fragments only, list them in {allowlist_path.relative_to(root)} "
              "with why they are safe")
        return 1
    print(f"SQL parameterisation: {scanned} files scanned, {len(used)} allowed constant "
          "concatenations, no other")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
