"""Makes the package importable from the source tree (`python3 -m pytest python/tests`) and
compiles the BPF objects the tests inspect."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))


def compile_bpf(stem, out_dir):
    """tests/bpf/STEM.bpf.c compiled with clang (or taken from $BPFLINK_BPF_OBJ_DIR)."""
    name = f"{stem}.bpf.o"
    prebuilt = os.environ.get("BPFLINK_BPF_OBJ_DIR")
    if prebuilt and (Path(prebuilt) / name).exists():
        return Path(prebuilt) / name
    clang = shutil.which("clang-19") or shutil.which("clang")
    assert clang, "clang-19 is needed to build the BPF test object"
    out = Path(out_dir) / name
    subprocess.run([clang, "-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu",
                    "-c", str(REPO / f"tests/bpf/{stem}.bpf.c"), "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def bpf_object(tmp_path_factory):
    """tests/bpf/xdp_global_data.bpf.c compiled."""
    return compile_bpf("xdp_global_data", tmp_path_factory.mktemp("bpf"))


@pytest.fixture(scope="session")
def bpf_objects(tmp_path_factory):
    """A function compiling tests/bpf/STEM.bpf.c (for several objects)."""
    out_dir = tmp_path_factory.mktemp("bpf-many")
    return lambda stem: compile_bpf(stem, out_dir)
