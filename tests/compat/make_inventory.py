"""Rewrite dacapo_ml_0_3_5_names.txt and dacapo_ml_0_3_5_fields.txt from the original's source.

    pip download dacapo-ml==0.3.5 --no-deps -d /tmp/orig && unzip /tmp/orig/*.whl -d /tmp/orig
    python tests/compat/make_inventory.py /tmp/orig

Names: the classes and functions defined at the top level of each module, and the names each
package imports into its ``__init__``. Fields: the annotated attributes of the ``*Config``
classes with their ``default=`` (or ``factory=``) source; REQUIRED where there is none.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _default(value) -> str:
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "default":
                return ast.unparse(keyword.value)
            if keyword.arg == "factory":
                return "factory " + ast.unparse(keyword.value)
        return "REQUIRED"
    return "REQUIRED" if value is None else ast.unparse(value)


def main(root: Path) -> None:
    names, fields = set(), []
    for path in sorted((root / "dacapo").rglob("*.py")):
        module = _module_name(root, path)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not node.name.startswith("_"):
                names.add(f"{module}:{node.name}")
            if path.name == "__init__.py" and isinstance(node, ast.ImportFrom) and node.level:
                names.update(
                    f"{module}:{a.asname or a.name}"
                    for a in node.names
                    if a.name != "*" and not (a.asname or a.name).startswith("_")
                )
            if isinstance(node, ast.ClassDef) and node.name.endswith("Config"):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        name = item.target.id.lstrip("_")
                        fields.append(f"{node.name}.{name} = {_default(item.value)}")
    (HERE / "dacapo_ml_0_3_5_names.txt").write_text(
        "# The public names of dacapo-ml 0.3.5, from its wheel's source: the classes and functions\n"
        "# defined at the top level of its modules, and the names its packages import into their\n"
        "# __init__ (module:name). tests/compat checks each one.\n" + "\n".join(sorted(names)) + "\n"
    )
    (HERE / "dacapo_ml_0_3_5_fields.txt").write_text(
        "# The fields of dacapo-ml 0.3.5's config classes and their defaults (Python source;\n"
        "# REQUIRED where it had none): Class.field = default\n" + "\n".join(fields) + "\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
