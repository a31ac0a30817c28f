"""The configs reference of the docs, generated from the registered attrs classes (fields,
types, defaults and ``help_text``), so it cannot drift from the code.

``config_reference()`` returns the Markdown page; as an MkDocs hook (``hooks:`` in
``mkdocs.yml``) this module adds it to the site as ``configs.md``:

    python -m dacapo.utils.docgen > configs.md   # the same page, by hand
"""

from __future__ import annotations

import inspect
from pathlib import PurePath

import attrs

# Families in reading order: the base class name and what its configs describe.
FAMILIES = [
    ("RunConfig", "A run: the four parts below, trained and validated."),
    ("DataSplitConfig", "Where the training and validation data are."),
    ("DatasetConfig", "One dataset: raw, ground truth and an optional mask."),
    ("ArrayConfig", "Arrays on disk and arrays derived from others (lazy)."),
    ("TaskConfig", "What to learn: targets, loss, post-processing and evaluation."),
    ("ArchitectureConfig", "The network."),
    ("TrainerConfig", "How to train: the data pipeline and the optimiser."),
    ("AugmentConfig", "Augmentations of the training pipeline."),
    ("StartConfig", "Weights to start from."),
]
OTHER = "Other config"  # classes of no family above


def config_classes() -> dict[str, list[type]]:
    """Every registered config class, by family (the family's base class first)."""
    from dacapo.config import CONFIG_TYPES, import_config_families

    import_config_families()
    families: dict[str, list[type]] = {name: [] for name, _ in FAMILIES}
    families[OTHER] = []
    bases = {name: CONFIG_TYPES[name] for name, _ in FAMILIES}
    for cls in sorted(CONFIG_TYPES.values(), key=lambda c: c.__name__):
        family = next((n for n, base in bases.items() if issubclass(cls, base)), OTHER)
        if family == OTHER:
            families[OTHER].append(cls)
        elif cls is bases[family]:
            families[family].insert(0, cls)
        else:
            families[family].append(cls)
    if not families[OTHER]:
        del families[OTHER]
    return families


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(field: attrs.Attribute) -> str:
    if field.default is attrs.NOTHING:
        return "required"
    if isinstance(field.default, attrs.Factory):
        if field.default.takes_self:
            return "computed"
        return f"`{field.default.factory()!r}`"
    if isinstance(field.default, PurePath):
        return f"`{field.default}`"
    return f"`{field.default!r}`"


def _type(field: attrs.Attribute) -> str:
    tp = field.type
    text = tp if isinstance(tp, str) else getattr(tp, "__name__", repr(tp))
    return f"`{text}`" if text else ""


def fields_table(cls: type) -> list[str]:
    """A Markdown table of the init fields of an attrs class (by their keyword names)."""
    fields = [f for f in attrs.fields(cls) if f.init]
    if not fields:
        return []
    lines = ["| field | type | default | description |", "|---|---|---|---|"]
    for field in fields:
        name = getattr(field, "alias", None) or field.name
        help_text = field.metadata.get("help_text", "")
        lines.append(
            f"| `{name}` | {_cell(_type(field))} | {_cell(_default(field))} | {_cell(help_text)} |"
        )
    return lines + [""]


def class_section(cls: type, level: int = 3) -> str:
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(f"{cls.__name__}(") or cls.__doc__ is None:
        doc = ""  # attrs' generated signature, not a docstring
    lines = [f"{'#' * level} {cls.__name__}", "", f"`{cls.__module__}.{cls.__name__}`", ""]
    if doc:
        lines += [doc, ""]
    return "\n".join(lines + fields_table(cls))


def config_reference() -> str:
    descriptions = dict(FAMILIES, **{OTHER: "Configs of no family above."})
    out = [
        "# Configs reference",
        "",
        "Every config class DaCapo knows, by family, with its fields (generated from the code: "
        "`dacapo.utils.docgen`). Configs are immutable; fields marked *required* have no "
        "default. Stored configs name their class in `__type__`.",
        "",
    ]
    for family, classes in config_classes().items():
        out += [f"## {family}s", "", descriptions[family], ""]
        out += [class_section(cls) for cls in classes]
    return "\n".join(out)


def compute_context_reference() -> str:
    """The compute contexts of ``dacapo.yaml`` (``compute_context: {type, config}``)."""
    from dacapo.compute_context import COMPUTE_CONTEXTS

    return "\n".join(class_section(cls) for cls in COMPUTE_CONTEXTS.values())


def options_reference() -> str:
    """The keys of ``dacapo.yaml``."""
    from dacapo.options import DaCapoOptions

    lines = fields_table(DaCapoOptions)
    return "\n".join(line for line in lines if not line.startswith("| `config_file`"))


# Pages may hold these markers; the hook replaces each with its generated Markdown.
MARKERS = {
    "<!-- generated: compute contexts -->": compute_context_reference,
    "<!-- generated: options -->": options_reference,
}


# --- MkDocs hooks ---------------------------------------------------------------------------------
def on_files(files, config):
    from mkdocs.structure.files import File

    files.append(File.generated(config, "configs.md", content=config_reference()))
    return files


def on_page_markdown(markdown, page, config, files):
    for marker, generate in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return markdown


if __name__ == "__main__":  # pragma: no cover
    print(config_reference())
