"""The README's strategy examples print what the README says they print."""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

from strategies.base import ParameterError

README = Path(__file__).resolve().parents[1] / "README.md"
# A python block that prints, followed by its output as comment lines ("# 0 0 285 64   a note").
OPTIONAL = {"langchain_text_splitters", "langchain_core", "llama_index", "chonkie", "chromadb"}
EXAMPLE = re.compile(r"```python\n(?P<code>(?:(?!```)(?!# ).*\n)+?)(?P<output>(?:# .*\n)+)```")


def examples() -> list[tuple[str, str]]:
    return [(m["code"], m["output"]) for m in EXAMPLE.finditer(README.read_text(encoding="utf-8")) if "print(" in m["code"]]


def test_the_readme_has_printed_examples():
    assert len(examples()) >= 4


@pytest.mark.parametrize("code, output", examples(), ids=lambda s: s.splitlines()[0][:40] if "\n" in s else "")
def test_readme_example_prints_what_the_readme_shows(code, output):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile("import strategies\n" + code, str(README), "exec"), {})
    except ModuleNotFoundError as err:  # an example of an integration whose extra is not installed
        if (err.name or "").split(".")[0] not in OPTIONAL:
            raise
        pytest.skip(f"needs {err.name} (an optional extra)")
    except ParameterError as err:  # chunkopt's own "needs X: pip install 'chunkopt[...]'" for a missing extra
        missing = re.search(r"needs (\w+): pip install 'chunkopt\[", str(err))
        if not missing or importlib.util.find_spec(missing[1]) is not None:
            raise
        pytest.skip(f"needs {missing[1]} (an optional extra)")
    # A shown line may end with a note after two or more spaces; the printed line is what precedes it.
    shown = [re.split(r" {2,}", line[2:], maxsplit=1)[0] for line in output.splitlines()]
    assert printed.getvalue().splitlines() == shown
