"""``python -m dataset_builder`` runs the ``heo-dataset`` CLI."""

from dataset_builder.cli import main

raise SystemExit(main())
