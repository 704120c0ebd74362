"""Finetuning of foundation potentials on HEO data through each backend's own trainer."""
