"""A small Landlab-like base class: every sim model declares the fields it reads and writes.

Models never call each other; a driver couples them through shared named fields. A subclass
declares ``_name`` and ``FIELDS`` (field name → :class:`FieldSpec`), implements
``run_one_step(dt)`` and exposes its arrays through :meth:`Component.field`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldSpec:
    """One declared field of a component.

    Parameters
    ----------
    units : str
        SI (UDUNITS/CF) unit string, e.g. ``"m"``, ``"m s-1"``, ``"1"``.
    intent : str
        ``"in"``, ``"out"`` or ``"inout"``.
    doc : str
        What the field is.
    location : str
        Where it lives: ``"cell"``, ``"face"``, ``"point"``, ``"building"``, ``"road"`` ...
    dtype : str
        numpy dtype name.
    optional : bool
        Whether an input may be missing.
    """

    units: str
    intent: str
    doc: str
    location: str = "cell"
    dtype: str = "float64"
    optional: bool = False


class Component:
    """Base class of sim models: declared fields, a name, ``run_one_step(dt)``.

    Examples
    --------
    >>> class Bucket(Component):
    ...     _name = "Bucket"
    ...     FIELDS = {"bucket__depth": FieldSpec("m", "out", "water in the bucket")}
    ...     def __init__(self):
    ...         self._fields = {"bucket__depth": 0.0}
    ...     def run_one_step(self, dt):
    ...         self._fields["bucket__depth"] += 1e-3 * dt
    >>> b = Bucket(); b.run_one_step(10.0); round(b.field("bucket__depth"), 6)
    0.01
    >>> Bucket.output_var_names()
    ('bucket__depth',)
    """

    _name: ClassVar[str] = "Component"
    FIELDS: ClassVar[dict[str, FieldSpec]] = {}
    _fields: dict[str, Any]

    @classmethod
    def input_var_names(cls) -> tuple[str, ...]:
        """Names of the fields the component reads."""
        return tuple(k for k, v in cls.FIELDS.items() if v.intent in ("in", "inout"))

    @classmethod
    def output_var_names(cls) -> tuple[str, ...]:
        """Names of the fields the component writes."""
        return tuple(k for k, v in cls.FIELDS.items() if v.intent in ("out", "inout"))

    @classmethod
    def var_units(cls, name: str) -> str:
        """SI unit string of a declared field."""
        return cls.FIELDS[name].units

    @classmethod
    def var_doc(cls, name: str) -> str:
        """Description of a declared field."""
        return cls.FIELDS[name].doc

    def field(self, name: str) -> Any:
        """Current value of a declared field."""
        if name not in self.FIELDS:
            raise KeyError(f"{self._name} declares no field {name!r}")
        return self._fields[name]

    def run_one_step(self, dt: float) -> None:
        """Advance the model by ``dt`` seconds."""
        raise NotImplementedError
