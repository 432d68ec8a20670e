"""``libm_pow``: the C library's ``pow`` in compiled code, as NumPy and Python call it.

Gymnasium's envs square NumPy scalars with ``x ** 2``, which NumPy computes
with the C library's ``pow``; that result differs from ``x * x`` in the last
bit for some x. Numba (LLVM) turns ``x ** 2`` and ``math.pow(x, 2.0)`` into
``x * x``, so a compiled twin of such an env calls :func:`libm_pow` to get
gymnasium's numbers bit for bit. The function is reached under its own
symbol name, which LLVM does not know as ``pow`` and so leaves alone; the
symbol is registered when this module is imported, before any kernel that
uses it is compiled or loaded from Numba's cache.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_SYMBOL = "wann_libm_pow"
_libm = ctypes.CDLL(ctypes.util.find_library("m") or None)
llvm.add_symbol(_SYMBOL, ctypes.cast(_libm.pow, ctypes.c_void_p).value)


@intrinsic
def libm_pow(typingctx, x, y):
    """``pow(x, y)`` of the C library, for float64 ``x`` and ``y``."""
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType(), ir.DoubleType()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _SYMBOL)
        return builder.call(fn, args)

    return sig, codegen
