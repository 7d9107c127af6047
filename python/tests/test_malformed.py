"""The malformed-object corpus (tests/malformed, scripts/gen-malformed-corpus.py) through the
Python bindings: opening each file (from a path and from memory) raises OSError with the
listed errno (libbpf's, as bpf_object__open_* report it), inspecting it raises OSError too
(bpflink_inspect_json reports the object model's own errno), and each time the library's
message (printed by the default print callback on stderr) names what is wrong and where."""
from pathlib import Path

import pytest

import bpflink

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "malformed"


def expectations():
    rows = []
    for line in (CORPUS / "EXPECTED").read_text().splitlines():
        if line and not line.startswith("#"):
            name, err, *pieces = line.split("\t")
            rows.append(pytest.param(CORPUS / name, int(err), pieces, id=name))
    return rows


def test_the_corpus_is_there():
    assert len(expectations()) >= 100


@pytest.mark.parametrize("path,err,pieces", expectations())
def test_malformed_object_raises_with_a_precise_message(path, err, pieces, capfd):
    openers = [("open", err, lambda: bpflink.Object.open(path)),
               ("open_mem", err, lambda: bpflink.Object.open_mem(path.read_bytes())),
               ("inspect", None, lambda: bpflink.inspect(path))]
    for what, expected_errno, call in openers:
        capfd.readouterr()
        with pytest.raises(OSError) as raised:
            call()
        message = capfd.readouterr().err
        if expected_errno is not None:
            assert raised.value.errno == expected_errno, f"{what}: {raised.value}"
        for piece in pieces:
            assert piece in message, f"{what}: {message!r} lacks {piece!r}"
