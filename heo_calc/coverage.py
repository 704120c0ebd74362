"""Which elements a backend calculator was trained on."""

from __future__ import annotations

from ase.calculators.calculator import Calculator

#: CHGNet's element embedding spans Z = 1..94.
_CHGNET_MAX_Z = 94


def supported_atomic_numbers(calculator: Calculator) -> frozenset[int] | None:
    """Atomic numbers the backend model covers, or ``None`` when the backend does not say."""
    z_table = getattr(calculator, "z_table", None)  # MACECalculator
    if z_table is not None:
        return frozenset(int(z) for z in z_table.zs)
    type_map = getattr(calculator, "type_map", None)  # SevenNetCalculator: {Z: type index}
    if isinstance(type_map, dict):
        return frozenset(int(z) for z in type_map)
    if type(calculator).__name__ == "CHGNetCalculator":
        return frozenset(range(1, _CHGNET_MAX_Z + 1))
    return None
