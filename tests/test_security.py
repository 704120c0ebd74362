"""Files we did not write are loaded weights-only: a malicious pickle is refused, also after `import mace`."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _malicious_checkpoint(path, marker):
    """A torch file whose unpickling would create ``marker`` (os.system through __reduce__)."""
    import torch

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    torch.save({"model_state_dict": {}, "config": {}, "payload": Payload()}, path)


def test_a_malicious_sevennet_file_is_refused_after_import_mace(tmp_path):
    """In a fresh process: mace-torch sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, then sevennet:PATH is loaded."""
    checkpoint, marker = tmp_path / "evil.pth", tmp_path / "pwned"
    _malicious_checkpoint(checkpoint, marker)
    script = textwrap.dedent(
        f"""
        import os
        import mace  # sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 for the whole process
        assert os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD") == "1"
        from heo_calc import get_calculator
        from heo_calc.errors import ModelUnavailableError
        try:
            get_calculator("sevennet:{checkpoint}", device="cpu")
        except ModelUnavailableError as error:
            print("REFUSED:", error)
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "REFUSED:" in completed.stdout and "was not unpickled" in completed.stdout
    assert not marker.exists(), "the pickled payload ran"


def test_the_weights_only_check_accepts_real_checkpoints():
    from heo_calc.backends.heo_ft import heo_ft_weights_path
    from heo_calc.backends.sevennet import load_checkpoint

    for name in ("heo-ft", "heo-ft-l3i5"):
        state = load_checkpoint(heo_ft_weights_path(name))
        assert "model_state_dict" in state and "config" in state


def test_a_file_that_is_no_checkpoint_is_a_clear_error(tmp_path):
    from heo_calc import get_calculator
    from heo_calc.errors import ModelUnavailableError, ModelWeightsNotFoundError

    (tmp_path / "notes.pth").write_text("not a torch file")
    with pytest.raises(ModelUnavailableError, match="not a SevenNet checkpoint that loads safely"):
        get_calculator(f"sevennet:{tmp_path / 'notes.pth'}", device="cpu")
    with pytest.raises(ModelWeightsNotFoundError, match="does not exist"):
        get_calculator(f"sevennet:{tmp_path / 'missing.pth'}", device="cpu")
