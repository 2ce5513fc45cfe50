"""One component written as on the command line: a name, then `param=value` words.

`--baseline "fixed chunk_size=512 overlap=64"` and `--retriever "neural precision=fp32"` are read
the same way: words split as a shell would (quote a value with spaces), the first word the name,
each value read as JSON where it can be (`512`, `null`, `true`, `'["\\n\\n", ". "]'`) and as a
string otherwise (`15%`, `fp32`).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from strategies.base import ParameterError


def parse_spec(spec: str, what: str, example: str) -> tuple[str, dict[str, Any]]:
    """(name, {param: value}) of `spec`; `what` and `example` word the error ("a configuration", "fixed chunk_size=512")."""
    try:
        words = shlex.split(spec)
    except ValueError as err:
        raise ParameterError(f"cannot read {what} {spec!r}: {err}") from None
    if not words or "=" in words[0]:
        raise ParameterError(f"{what} is a name and param=value words, like {example!r}, got {spec!r}")
    params: dict[str, Any] = {}
    for word in words[1:]:
        name, sep, value = word.partition("=")
        if not sep or not name:
            raise ParameterError(f"in {what} {spec!r}: expected param=value, got {word!r}")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return words[0], params
