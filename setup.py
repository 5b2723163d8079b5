"""Build the native similarity kernels, ``exposure._core``.

The extension is compiled for a portable baseline (no ``-march=native``); the
AVX-512 and AVX2 code paths are compiled with per-function target attributes
and chosen at run time, so one wheel runs fast on every x86-64 machine.
OpenMP is used when the compiler supports it.
"""

import glob
import os
import sys
import tempfile

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup


def _has_flag(compiler, flag: str) -> bool:
    """True when the compiler accepts ``flag`` and can link an OpenMP program."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.cpp")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main() { return omp_get_max_threads() > 0 ? 0 : 1; }\n")
        try:
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=[flag])
            compiler.link_executable(objs, os.path.join(tmp, "probe"), extra_postargs=[flag])
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    """Add OpenMP flags when the compiler has them."""

    def build_extensions(self):
        if sys.platform != "win32" and _has_flag(self.compiler, "-fopenmp"):
            for ext in self.extensions:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
                ext.define_macros.append(("EXPOSURE_OPENMP", "1"))
        super().build_extensions()


ext_modules = [
    Pybind11Extension(
        "exposure._core",
        ["csrc/bindings.cpp"],
        include_dirs=["csrc"],
        # The arithmetic lives in headers: rebuild when any of them changes.
        depends=sorted(glob.glob("csrc/*.hpp")),
        cxx_std=17,
        extra_compile_args=["-O3"] if sys.platform != "win32" else ["/O2"],
    ),
]

setup(
    # models/ (capability sets, heads, technology labels, unit classifier, assignment calibration) ships inside
    # the package as exposure.models.
    packages=["exposure", "exposure.kernels", "exposure.occupations", "exposure.labour", "exposure.postings",
              "exposure.jobs", "exposure.training",
              "exposure.data", "exposure.models", "exposure.models.capabilities", "exposure.models.heads",
              "exposure.models.technologies", "exposure.models.units", "exposure.models.assign",
              "exposure.models.multilingual"],
    package_dir={"exposure": "exposure", "exposure.models": "models"},
    # py.typed: the package ships inline type hints (PEP 561).
    package_data={"exposure": ["py.typed"],
                  "exposure.data": ["*.parquet", "*.csv", "*.md"],
                  "exposure.models.capabilities": ["*.yaml", "*.json"],
                  "exposure.models.heads": ["*.npz", "*.json"],
                  "exposure.models.technologies": ["*.json", "*.tsv", "*.md"],
                  "exposure.models.units": ["*.npz", "*.json"],
                  "exposure.models.assign": ["*.json"],
                  "exposure.models.multilingual": ["*.npz", "*.json"]},
    ext_modules=ext_modules,
    cmdclass={"build_ext": BuildExt},
    zip_safe=False,
)
