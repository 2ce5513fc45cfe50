"""The public names of `import chunkopt`: each resolves to what the README says it is."""

import inspect
import subprocess
import sys

import chunkopt


def test_every_public_name_is_a_function_or_class_not_a_module():
    for name in chunkopt.__all__:
        if name != "__version__":
            value = getattr(chunkopt, name)
            assert not inspect.ismodule(value), name


def test_evaluate_is_the_function_even_after_the_engine_module_is_imported():
    import chunkopt.sweep  # noqa: F401  (imports the evaluation module)
    from chunkopt import evaluate

    assert callable(evaluate) and evaluate.__name__ == "evaluate"


def test_importing_chunkopt_loads_no_heavy_dependency():
    code = "import sys, chunkopt; print(sorted({'spacy', 'sklearn', 'torch'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
