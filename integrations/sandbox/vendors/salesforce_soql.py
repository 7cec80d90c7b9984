"""A tiny SOQL parser: the subset incremental connectors send, with Salesforce's error texts.

Grammar (keywords case-insensitive):

    SELECT field [, field ...] | COUNT()
    FROM sObject
    [WHERE condition]            condition: comparison, NOT condition, ( condition ),
                                 conditions joined by AND or by OR (mixing them needs
                                 parentheses, as in Salesforce)
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST]]
    [LIMIT n]

    comparison: field (= | != | <> | < | <= | > | >=) literal
              | field [NOT] IN (literal, ...) | field LIKE 'pattern'
    literal:    'string' | number | true | false | null
              | 2024-01-01 (date) | 2024-01-01T00:00:00Z, ...T00:00:00.000+01:00 (dateTime)

Anything else — relationship paths, date literals such as TODAY, GROUP BY, OFFSET,
sub-queries — is a `SoqlError` with code MALFORMED_QUERY, placed at the offending column the
way Salesforce reports it. `parse` knows no schema; field and type checks are in `check`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from integrations.sandbox.vendors.crm_store import parse_millis
from integrations.sandbox.vendors.salesforce_schema import (
    BOOLEAN,
    DATE,
    DATETIME,
    DOUBLE,
    ID,
    INT,
    REFERENCE,
    STRING,
    TYPE_LABELS,
    SObject,
)

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")
_UNSUPPORTED = ("GROUP", "HAVING", "OFFSET", "WITH", "FOR", "TYPEOF", "USING", "INCLUDES",
                "EXCLUDES")

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<bad_datetime>\d{4}-\d{2}-\d{2}T[\d:.]*)
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)


class SoqlError(Exception):
    """A query Salesforce would reject, with its errorCode and the column it points at."""

    def __init__(self, message: str, code: str = MALFORMED_QUERY, position: int | None = None,
                 ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.position = position

    def render(self, query: str) -> str:
        """The message as Salesforce writes it: the query, a caret, `ERROR at Row:1:Column:n`."""
        if self.position is None:
            return self.message
        return (f"\n{query}\n{' ' * self.position}^\nERROR at Row:1:Column:"
                f"{self.position + 1}\n{self.message}")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Literal:
    """A literal: kind is string, number, boolean, null, date or datetime."""

    kind: str
    value: Any
    position: int


@dataclass(frozen=True)
class FieldRef:
    name: str
    position: int


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    operator: str                  # one of COMPARISONS ("<>" is kept as "!=")
    value: Literal


@dataclass(frozen=True)
class Membership:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class Junction:
    operator: str                  # "AND" or "OR"
    operands: tuple[Condition, ...]


Condition = Comparison | Membership | Like | Not | Junction


@dataclass(frozen=True)
class OrderBy:
    field: FieldRef
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed query; `fields` is None for SELECT COUNT()."""

    fields: tuple[FieldRef, ...] | None
    sobject: str
    sobject_position: int
    where: Condition | None = None
    order_by: OrderBy | None = None
    limit: int | None = None


def parse(text: str) -> Query:
    """Parse one SOQL query; SoqlError(MALFORMED_QUERY) if it is outside the subset."""
    return _Parser(_tokens(text)).query()


def _tokens(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise SoqlError(f"unexpected token: '{text[position]}'", position=position)
        kind = found.lastgroup or ""
        if kind == "bad_datetime":
            raise SoqlError(f"Invalid datetime: {found.group()} (a time zone, Z or +hh:mm, "
                            f"is required)", position=position)
        if kind != "space":
            tokens.append(Token(kind, found.group(), position))
        position = found.end()
    tokens.append(Token("end", "<EOF>", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.current.kind == "word" and self.current.upper in words

    def expect_keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.current.text != char:
            raise self.unexpected()
        return self.advance()

    def unexpected(self) -> SoqlError:
        token = self.current
        if token.kind == "word" and token.upper in _UNSUPPORTED:
            return SoqlError(f"{token.upper} is not supported by the sandbox's SOQL",
                             position=token.position)
        return SoqlError(f"unexpected token: '{token.text}'", position=token.position)

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        fields = self.select_list()
        self.expect_keyword("FROM")
        sobject = self.field_name()
        where = order_by = limit = None
        if self.at_keyword("WHERE"):
            self.advance()
            where = self.condition()
        if self.at_keyword("ORDER"):
            order_by = self.order_by()
        if self.at_keyword("LIMIT"):
            self.advance()
            limit = self.limit()
        if self.current.kind != "end":
            raise self.unexpected()
        return Query(fields, sobject.name, sobject.position, where, order_by, limit)

    def select_list(self) -> tuple[FieldRef, ...] | None:
        if self.at_keyword("COUNT") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            return None
        fields = [self.field_name()]
        while self.current.text == ",":
            self.advance()
            fields.append(self.field_name())
        return tuple(fields)

    def field_name(self) -> FieldRef:
        token = self.current
        if token.kind != "word" or token.upper in ("FROM", "WHERE", "SELECT"):
            raise self.unexpected()
        if "." in token.text:
            raise SoqlError(f"relationship paths such as '{token.text}' are not supported by "
                            f"the sandbox's SOQL", position=token.position)
        self.advance()
        if self.current.text == "(":
            raise SoqlError(f"function {token.text}() is not supported by the sandbox's SOQL",
                            position=token.position)
        return FieldRef(token.text, token.position)

    def condition(self) -> Condition:
        operands = [self.factor()]
        operator = None
        while self.at_keyword("AND", "OR"):
            if operator is not None and self.current.upper != operator:
                # Salesforce refuses `a AND b OR c`: the precedence must be written out.
                raise self.unexpected()
            operator = self.advance().upper
            operands.append(self.factor())
        if operator is None:
            return operands[0]
        return Junction(operator, tuple(operands))

    def factor(self) -> Condition:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.factor())
        if self.current.text == "(":
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        field = self.field_name()
        if self.current.kind == "op":
            operator = self.advance().text
            return Comparison(field, "!=" if operator == "<>" else operator, self.literal())
        negated = self.at_keyword("NOT")
        if negated:
            self.advance()
        if self.at_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            values = [self.literal()]
            while self.current.text == ",":
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Membership(field, tuple(values), negated)
        if self.at_keyword("LIKE") and not negated:
            self.advance()
            pattern = self.literal()
            if pattern.kind != "string":
                raise SoqlError("LIKE needs a quoted pattern", position=pattern.position)
            return Like(field, pattern)
        raise self.unexpected()

    def literal(self) -> Literal:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Literal("string", _unquote(token.text), token.position)
        if token.kind == "number":
            self.advance()
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, token.position)
        if token.kind in ("date", "datetime"):
            self.advance()
            return _temporal(token)
        if token.kind == "word" and token.upper in ("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", token.upper == "TRUE", token.position)
        if token.kind == "word" and token.upper == "NULL":
            self.advance()
            return Literal("null", None, token.position)
        if token.kind == "word":
            raise SoqlError(f"date literal or bind variable {token.text} is not supported by "
                            f"the sandbox's SOQL", position=token.position)
        raise self.unexpected()

    def order_by(self) -> OrderBy:
        self.expect_keyword("ORDER")
        self.expect_keyword("BY")
        field = self.field_name()
        descending = False
        if self.at_keyword("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        if self.at_keyword("NULLS"):
            self.advance()
            if not self.at_keyword("FIRST", "LAST"):
                raise self.unexpected()
            self.advance()
        if self.current.text == ",":
            raise SoqlError("ordering by more than one field is not supported by the "
                            "sandbox's SOQL", position=self.current.position)
        return OrderBy(field, descending)

    def limit(self) -> int:
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected()
        self.advance()
        return int(token.text)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                  text[1:-1])


def _temporal(token: Token) -> Literal:
    try:
        if token.kind == "date":
            return Literal("date", date.fromisoformat(token.text).isoformat(), token.position)
        return Literal("datetime", parse_millis(token.text), token.position)
    except ValueError:
        kind = "date" if token.kind == "date" else "datetime"
        raise SoqlError(f"Invalid {kind}: {token.text}", position=token.position) from None


# -- checking a parsed query against the org's schema ---------------------------------------

_LITERAL_KINDS = {
    ID: ("string",), REFERENCE: ("string",), STRING: ("string",), BOOLEAN: ("boolean",),
    DOUBLE: ("number",), INT: ("number",), DATE: ("date",), DATETIME: ("datetime",),
}


def check(query: Query, target: SObject | None) -> dict[str, str]:
    """Validate field names and literal types; returns {name as written: canonical name}.

    Raises SoqlError with INVALID_TYPE for an unknown sObject and INVALID_FIELD for an unknown
    field or a literal of the wrong type, as Salesforce does.
    """
    if target is None:
        raise SoqlError(f"sObject type '{query.sobject}' is not supported. If you are "
                        f"attempting to use a custom object, be sure to append the '__c' "
                        f"after the entity name. Please reference your WSDL or the describe "
                        f"call for the appropriate names.", INVALID_TYPE,
                        query.sobject_position)
    names: dict[str, str] = {}
    seen: set[str] = set()
    for ref in query.fields or ():
        canonical = _resolve(ref, target, names)
        if canonical in seen:
            raise SoqlError(f"duplicate field selected: {canonical}", position=ref.position)
        seen.add(canonical)
    if query.where is not None:
        _check_condition(query.where, target, names)
    if query.order_by is not None:
        _resolve(query.order_by.field, target, names)
    return names


def _resolve(ref: FieldRef, target: SObject, names: dict[str, str]) -> str:
    canonical = target.field(ref.name)
    if canonical is None:
        raise SoqlError(f"No such column '{ref.name}' on entity '{target.name}'. If you are "
                        f"attempting to use a custom field, be sure to append the '__c' after "
                        f"the custom field name. Please reference your WSDL or the describe "
                        f"call for the appropriate names.", INVALID_FIELD, ref.position)
    names[ref.name] = canonical
    return canonical


def _check_condition(condition: Condition, target: SObject, names: dict[str, str]) -> None:
    if isinstance(condition, Junction):
        for operand in condition.operands:
            _check_condition(operand, target, names)
    elif isinstance(condition, Not):
        _check_condition(condition.operand, target, names)
    elif isinstance(condition, Comparison | Membership | Like):
        canonical = _resolve(condition.field, target, names)
        field_type = target.field_type(canonical)
        values = (condition.values if isinstance(condition, Membership)
                  else (condition.pattern,) if isinstance(condition, Like)
                  else (condition.value,))
        for literal in values:
            _check_literal(canonical, field_type, literal)


def _check_literal(name: str, field_type: str, literal: Literal) -> None:
    allowed = _LITERAL_KINDS.get(field_type)
    if literal.kind == "null" or allowed is None or literal.kind in allowed:
        return
    quoted = field_type in (ID, REFERENCE, STRING)
    raise SoqlError(f"value of filter criterion for field '{name}' must be of type "
                    f"{TYPE_LABELS[field_type]} and should "
                    f"{'' if quoted else 'not '}be enclosed in quotes", INVALID_FIELD,
                    literal.position)
