"""Run sevenn's own command line (``sevenn input.yaml``) with its checkpoints loadable.

sevenn 0.10.4 stores Python ``slice`` objects in its checkpoints, which torch >= 2.6's
weights-only ``torch.load`` rejects. We allow exactly that builtin and sevenn's own graph
container (its preprocessed datasets), nothing else.
"""

import sys

import torch


def main() -> None:
    torch.serialization.add_safe_globals([slice])
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.main.sevenn import main as sevenn_main

    torch.serialization.add_safe_globals([AtomGraphData])

    sys.argv[0] = "sevenn"
    sevenn_main()


if __name__ == "__main__":
    main()
