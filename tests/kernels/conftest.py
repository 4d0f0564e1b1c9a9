"""Kernel tests. CPU tests run the Triton kernels through Triton's interpreter: the root
tests/conftest.py sets TRITON_INTERPRET=1 for the whole pytest process (before anything imports
Triton) unless the run selects the GPU tests (`pytest tests/kernels -m gpu` on a CUDA machine)."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:      # the shared test helpers (helpers.py)
    sys.path.insert(0, _HERE)
