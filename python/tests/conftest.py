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


@pytest.fixture(scope="session")
def bpf_object(tmp_path_factory):
    """tests/bpf/xdp_global_data.bpf.c compiled with clang (or taken from $BPFLINK_BPF_OBJ_DIR)."""
    name = "xdp_global_data.bpf.o"
    prebuilt = os.environ.get("BPFLINK_BPF_OBJ_DIR")
    if prebuilt and (Path(prebuilt) / name).exists():
        return Path(prebuilt) / name
    clang = shutil.which("clang-19") or shutil.which("clang")
    assert clang, "clang-19 is needed to build the BPF test object"
    out = tmp_path_factory.mktemp("bpf") / name
    subprocess.run([clang, "-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu",
                    "-c", str(REPO / "tests/bpf/xdp_global_data.bpf.c"), "-o", str(out)], check=True)
    return out
