"""C++ errors arrive as the right Python exception, with the C++ message."""
import gzip
import os

import numpy as np
import pytest
import torch

import alx


def test_io_errors_are_oserror(tmp_path):
    missing = str(tmp_path / "missing.h5")
    with pytest.raises(OSError) as err:
        alx.Store.open(missing)
    assert isinstance(err.value, alx.IoError)
    assert "missing.h5" in str(err.value)
    with pytest.raises(OSError, match="nope.idx"):
        alx.read_idx(str(tmp_path / "nope.idx"))


def test_format_errors_are_valueerror(tmp_path):
    bad = tmp_path / "bad-idx1-ubyte.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")  # claims 5 bytes, holds 3
    with pytest.raises(ValueError) as err:
        alx.read_idx(str(bad))
    assert isinstance(err.value, alx.FormatError)
    assert "bad-idx1-ubyte.gz" in str(err.value)


def test_config_errors_are_valueerror_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="epochs") as err:
        alx.TrainerOptions(epochs=0)
    assert isinstance(err.value, alx.ConfigError)
    with pytest.raises(ValueError, match="unknown key.*valid keys"):
        alx.TrainerOptions(epoch=3)
    cfg = tmp_path / "run.yaml"
    cfg.write_text("trainer:\n  lr: -1\n")
    with pytest.raises(ValueError, match="run.yaml.*lr"):
        alx.TrainerOptions.from_yaml(str(cfg), key="trainer")
    with pytest.raises(OSError):
        alx.TrainerOptions.from_yaml(str(tmp_path / "absent.yaml"))


def test_invalid_arguments_are_valueerror():
    with pytest.raises(ValueError, match="unknown scorer 'nope'.*entropy"):
        alx.score(np.full((2, 2), 0.5, np.float32), "nope")
    with pytest.raises(ValueError, match="nope"):
        alx.make_sampler("nope")
    with pytest.raises(ValueError, match="duplicate|dup"):
        alx.Schema(["dup", "dup"])
    with pytest.raises(ValueError):
        alx.register_scorer("entropy", lambda p: p[:, 0, 0])  # built-in names are reserved


def test_torch_errors_are_runtimeerror():
    model = alx.make_model(name="gal_cnn", num_classes=3)
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        model.forward(np.zeros((2, 3, 28, 28), np.float32))  # alx's own check: 1 channel
    with pytest.raises(RuntimeError) as err:                  # LibTorch's error, no C++ backtrace
        model.forward(torch.zeros(2, 1, 28, 28).to_sparse())
    assert not isinstance(err.value, ValueError)
    assert "Exception raised from" not in str(err.value)


def test_python_errors_raised_in_callbacks_come_back_unchanged():
    class Boom(Exception):
        pass

    def scorer(probs):
        raise Boom("from python")

    alx.register_scorer("test_boom", scorer)
    with pytest.raises(Boom, match="from python"):
        alx.score(np.full((2, 2), 0.5, np.float32), "test_boom")


def test_bad_scorer_results_are_refused():
    alx.register_scorer("test_wrong_shape", lambda p: np.zeros(3))
    with pytest.raises(ValueError):
        alx.score(np.full((2, 2), 0.5, np.float32), "test_wrong_shape")
