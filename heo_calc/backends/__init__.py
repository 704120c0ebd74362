"""Factories for the built-in calculators, registered as ``heo_calc.calculators`` entry points.

Each factory has the signature ``(*, device="auto", dtype="float64", **kwargs) -> Calculator``
and imports its backend only when called, so listing calculators stays cheap.
"""
