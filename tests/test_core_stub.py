"""_core.pyi and py.typed ship in the package, and the stub names what the module has."""

import ast
from importlib import resources

from ptm_fast import _core


def stub_names() -> set[str]:
    source = resources.files("ptm_fast").joinpath("_core.pyi").read_text(encoding="utf-8")
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def module_names() -> set[str]:
    return {name for name in vars(_core) if not name.startswith("__") or name == "__version__"}


def test_stub_and_module_name_the_same_things():
    assert stub_names() == module_names()


def test_py_typed_ships():
    assert resources.files("ptm_fast").joinpath("py.typed").is_file()
