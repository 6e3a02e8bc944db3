"""The Triton kernels compile for a real GPU (Hopper, sm_90), checked on a machine without one.

Triton's interpreter, which runs the kernels in tests/core/neurons/test_fused.py on a CPU, accepts Python that the
compiler refuses (a plain global read inside a kernel, for one), so a kernel can pass every interpreted test and
still fail at its first launch on CUDA. Here each kernel is compiled ahead of time to PTX and machine code by
Triton's own compiler and ptxas, for the specialisations the op launches: both dtypes, both resets, with and
without a cap, every surrogate, with and without each upstream gradient.

The interpreter is chosen when Triton is imported (``TRITON_INTERPRET``, which conftest sets on a CPU machine),
so the compile runs in a child process without it: this file run as a script.
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

# (kernel, constexprs) per specialisation; every one is compiled for float32 and float64
SPECIALISATIONS = [
    ("_lif_forward", {"HARD": True, "CAP": 0}),
    ("_lif_forward", {"HARD": False, "CAP": 3}),
    ("_lif_backward", {"HAS_GS": True, "HAS_GP": False, "HARD": True, "CAP": 0, "KIND": 0}),
    ("_lif_backward", {"HAS_GS": True, "HAS_GP": True, "HARD": False, "CAP": 1, "KIND": 1}),
    ("_lif_backward", {"HAS_GS": False, "HAS_GP": True, "HARD": True, "CAP": 3, "KIND": 2}),
    ("_cuba_forward", {"CAP": 0}),
    ("_cuba_forward", {"CAP": 1}),
    ("_cuba_backward", {"HAS_GS": True, "HAS_GP": False, "CAP": 0, "KIND": 1}),
    ("_cuba_backward", {"HAS_GS": True, "HAS_GP": True, "CAP": 3, "KIND": 2}),
    ("_cuba_backward", {"HAS_GS": False, "HAS_GP": True, "CAP": 1, "KIND": 0}),
]
INTEGER_ARGUMENTS = ("T", "N")


def compile_all() -> int:
    """Compile every specialisation for sm_90; returns how many compiled (raises on the first that does not)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from snn_core.neurons import fused_triton

    compiled = 0
    for name, constexprs in SPECIALISATIONS:
        kernel = getattr(fused_triton, name)
        for dtype in ("fp32", "fp64"):
            constants = {**constexprs, "BLOCK": fused_triton.BLOCK}
            signature = {arg: "constexpr" if arg in constants else "i32" if arg in INTEGER_ARGUMENTS else f"*{dtype}"
                         for arg in inspect.signature(kernel.fn).parameters}
            source = ASTSource(fn=kernel, signature=signature, constexprs=constants)
            binary = triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"enable_fp_fusion": False})
            assert binary.asm["cubin"], f"{name} {dtype}: no machine code"
            compiled += 1
    return compiled


def ptxas_available() -> bool:
    """Triton's CUDA backend ships ptxas in its wheel (``triton/backends/nvidia/bin``), or names one by env."""
    try:
        import triton.backends.nvidia as nvidia
    except ImportError:
        return False
    bundled = Path(nvidia.__file__).parent / "bin" / "ptxas"
    return bundled.exists() or bool(os.environ.get("TRITON_PTXAS_PATH"))


def test_every_kernel_compiles_for_a_hopper_gpu():
    pytest.importorskip("triton", reason="triton is not installed (the dev extra installs it on Linux x86-64)")
    if not ptxas_available():
        pytest.skip("this Triton has no CUDA backend with ptxas: it cannot compile for a GPU here")
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    done = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"compiled {2 * len(SPECIALISATIONS)}"


if __name__ == "__main__":
    print(f"compiled {compile_all()}")
