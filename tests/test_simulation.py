"""The Monte Carlo engine: identical frames for any number of workers and backend."""

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from _simulation_replications import (
    _coin,
    _covered,
    _fails_sometimes,
    _pid,
    _replication,
    _slow_first_pid,
)

from statlogit.simulation import expand_grid, monte_carlo

GRID = {"n": [5, 50], "shift": [0.0, 1.0]}


def test_frame_shape_columns_and_order():
    df = monte_carlo(_replication, 4, grid=GRID, seed=3)
    assert list(df.columns) == ["n", "shift", "rep", "mean", "first"]
    assert len(df) == 16
    assert df["rep"].tolist() == [0, 1, 2, 3] * 4
    assert df[["n", "shift"]].drop_duplicates().values.tolist() == [
        [5, 0.0], [5, 1.0], [50, 0.0], [50, 1.0]]


def test_seeds_are_spawned_children_of_one_seed_sequence():
    df = monte_carlo(_replication, 3, grid={"n": [1], "shift": [0.0]}, seed=11)
    children = np.random.SeedSequence(11).spawn(3)
    want = [np.random.default_rng(c).standard_normal(1)[0] for c in children]
    np.testing.assert_allclose(df["first"], want)


def test_identical_for_one_and_two_workers():
    one = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=1)
    two = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=2, chunk_size=5,
                      min_parallel_seconds=0)  # use the workers even for a tiny study
    pd.testing.assert_frame_equal(one, two)


def test_identical_on_a_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    one = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        on_dask = monte_carlo(_replication, 6, grid=GRID, seed=7, min_parallel_seconds=0)
    pd.testing.assert_frame_equal(one, on_dask)


def test_different_seeds_differ():
    a = monte_carlo(_replication, 3, grid=GRID, seed=1)
    b = monte_carlo(_replication, 3, grid=GRID, seed=2)
    assert not np.allclose(a["mean"], b["mean"])


def test_expand_grid_keeps_order_and_accepts_lists():
    assert expand_grid(None) == [{}]
    assert expand_grid([{"a": [2, 1]}, {"b": ["x"]}]) == [{"a": 2}, {"a": 1}, {"b": "x"}]


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_rejects_bad_n_reps(bad):
    with pytest.raises(ValueError, match="n_reps must be a positive integer"):
        monte_carlo(_replication, bad)


def test_func_must_return_a_dict():
    with pytest.raises(TypeError, match="dict of metrics"):
        monte_carlo(lambda rng: 1.0, 1)


# ------------------------------------------------- argument checks (issue 14)

import pathlib  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from statlogit.simulation import ReplicationError, summarize  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]

BAD_ARGUMENTS = {
    "chunk_size": [0, -1, 1.5, True, "2"],
    "n_jobs": [0, 1.5, True, "2"],
    "grid": [[], {"n": []}, 5, "n", {"n": 5}, {"n": "abc"}, {1: [1]}, {"rep": [1]},
             [{"n": [1]}, 3], {"n": [1], "shift": []}],
    "seed": [-1, 1.5, "x", None, True, np.random.default_rng(0), [1, 2]],
    "on_error": ["ignore", None, True],
    "progress": ["yes", 2],
    "min_parallel_seconds": [-1.0, np.nan, np.inf, "1", True],
}


def _call(name, value):
    kwargs = {"grid": {"n": [3], "shift": [0.0]}, name: value}
    return monte_carlo(_replication, 2, **kwargs)


@pytest.mark.parametrize("name, value", [(k, v) for k, vs in BAD_ARGUMENTS.items()
                                         for v in vs],
                         ids=lambda v: repr(v)[:20])
def test_bad_arguments_are_named(name, value):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        _call(name, value)


@pytest.mark.parametrize("func", [None, 5, "f"])
def test_func_must_be_callable(func):
    with pytest.raises(TypeError, match=r"func must be a callable"):
        monte_carlo(func, 2)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(name=st.sampled_from(sorted(BAD_ARGUMENTS)), value=st.one_of(
    st.none(), st.booleans(), st.integers(-5, 0), st.floats(allow_nan=True),
    st.text(max_size=3), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)))
def test_any_bad_argument_is_a_named_value_or_type_error(name, value):
    """Every argument value either works or is refused naming the argument: never a
    raw TypeError from itertools, numpy's SeedSequence or joblib."""
    try:
        frame = _call(name, value)
    except (ValueError, TypeError) as exc:
        assert re.search(rf"\b{name}\b", str(exc)), str(exc)
    else:
        assert len(frame) >= 2 and frame["mean"].notna().all()


def test_grid_of_empty_dict_is_one_point():
    assert len(monte_carlo(lambda rng: {"x": 1.0}, 3, grid={})) == 3


# ----------------------------------------------------------- error policy


WORKERS = {"serial": (None, {}),
           "threads": ("threading", {"n_jobs": 2, "min_parallel_seconds": 0}),
           "processes": ("loky", {"n_jobs": 2, "min_parallel_seconds": 0})}


@pytest.mark.parametrize("workers", ["serial", "threads", "processes"])
def test_raise_names_grid_point_and_replication_and_chains(workers):
    backend, kwargs = WORKERS[workers]
    config = joblib.parallel_config(backend=backend) if backend else warnings.catch_warnings()
    with pytest.raises(ReplicationError, match=r"replication 0 at grid point 1 \{'n': 2\} "
                                               r"raised ZeroDivisionError: n = 2 is bad") \
            as info, config:
        monte_carlo(_fails_sometimes, 3, grid={"n": [1, 2, 3]}, chunk_size=3, **kwargs)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "Traceback" in str(info.value)


@pytest.mark.parametrize("workers", ["serial", "threads"])
def test_record_keeps_every_row_and_the_error(workers):
    backend, kwargs = WORKERS[workers]
    config = joblib.parallel_config(backend=backend) if backend else warnings.catch_warnings()
    with pytest.warns(RuntimeWarning, match="3 of 9 replications raised"), config:
        frame = monte_carlo(_fails_sometimes, 3, grid={"n": [1, 2, 3]}, seed=4,
                            on_error="record", **kwargs)
    assert list(frame.columns) == ["n", "rep", "x", "error"]
    assert len(frame) == 9
    failed = frame["n"] == 2
    assert frame.loc[failed, "error"].eq("ZeroDivisionError: n = 2 is bad").all()
    assert frame.loc[failed, "x"].isna().all() and frame.loc[~failed, "error"].isna().all()
    good = monte_carlo(_fails_sometimes, 3, grid={"n": [1, 3]}, seed=4)
    # the surviving rows keep their own seeds (children 0-2 and 6-8)
    assert not np.allclose(frame.loc[~failed, "x"].to_numpy(), good["x"].to_numpy())
    children = np.random.SeedSequence(4).spawn(9)
    want = [np.random.default_rng(children[i]).standard_normal() for i in (0, 1, 2, 6, 7, 8)]
    np.testing.assert_allclose(frame.loc[~failed, "x"], want)


def test_record_without_failures_has_an_empty_error_column():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = monte_carlo(_replication, 2, grid=GRID, on_error="record")
    assert frame["error"].isna().all()


# ------------------------------------------------------ workers and backends


def test_forced_workers_give_the_same_frame_for_any_chunking():
    one = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=1)
    for chunk_size in (None, 1, 5, 100):
        two = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=2,
                          chunk_size=chunk_size, min_parallel_seconds=0)
        pd.testing.assert_frame_equal(one, two)


SPY = textwrap.dedent("""
    import sys
    from statlogit.simulation import monte_carlo

    def spy(rng):
        return {name: name in sys.modules for name in ("statlogit", "sklearn", "numba")}

    if __name__ == "__main__":
        frame = monte_carlo(spy, 4, n_jobs=2, min_parallel_seconds=0)
        print(int(frame[["statlogit", "sklearn", "numba"]].to_numpy().sum()))
""")


def test_workers_do_not_import_statlogit_for_a_script_function(tmp_path):
    script = tmp_path / "spy.py"
    script.write_text(SPY)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path,
                         env={**_env(), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _dask_recipe():
    text = (ROOT / "docs" / "simulation.rst").read_text()
    block = text.split(":name: dask-recipe", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line.strip() and not line.startswith("   "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_dask_recipe_in_the_docs_runs_as_written(tmp_path):
    pytest.importorskip("dask.distributed")
    script = tmp_path / "recipe.py"
    script.write_text(_dask_recipe())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path,
                         env={**_env(), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    frame = monte_carlo(_covered, 200, grid={"n": [10, 100]}, seed=0)
    want = summarize(frame)
    for n, mean in zip(want["n"], want["covered_mean"], strict=True):
        assert re.search(rf"\b{n}\s+{mean:.3f}", out.stdout), out.stdout


# ------------------------------------------------------------------ summarize


def test_summarize_is_mean_mcse_and_count_per_grid_point():
    frame = monte_carlo(_replication, 7, grid=GRID, seed=2)
    frame.loc[3, "mean"] = np.nan
    table = summarize(frame)
    assert list(table.columns) == ["n", "shift", "mean_mean", "mean_mcse", "mean_count",
                                   "first_mean", "first_mcse", "first_count"]
    for (n, shift), part in frame.groupby(["n", "shift"], sort=False):
        row = table[(table["n"] == n) & (table["shift"] == shift)].iloc[0]
        values = part["mean"].dropna().to_numpy()
        assert row["mean_count"] == len(values)
        assert row["mean_mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert row["mean_mcse"] == pytest.approx(
            np.sqrt(np.sum((values - values.mean()) ** 2) / (len(values) - 1))
            / np.sqrt(len(values)), rel=1e-12)
    assert table["mean_count"].tolist() == [6, 7, 7, 7]


def test_summarize_booleans_recorded_errors_and_no_grid():
    frame = monte_carlo(_coin, 50, seed=1)
    table = summarize(frame)
    assert len(table) == 1 and table["covered_count"].iloc[0] == 50
    p = frame["covered"].mean()
    assert table["covered_mean"].iloc[0] == pytest.approx(p)
    assert table["covered_mcse"].iloc[0] == pytest.approx(
        np.sqrt(p * (1 - p) / 49), rel=1e-12)
    with pytest.warns(RuntimeWarning):
        failing = monte_carlo(_fails_sometimes, 4, grid={"n": [1, 2]}, on_error="record")
    assert summarize(failing)["x_count"].tolist() == [4, 0]
    with pytest.raises(ValueError, match="not in frame"):
        summarize(frame, by="n")
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        summarize(frame.to_numpy())


def test_who_runs_the_replications():
    """Serial by default; tiny studies stay in-process even with n_jobs=2; forced
    workers are other processes."""
    import os

    me = os.getpid()
    assert (monte_carlo(_pid, 8, min_parallel_seconds=0)["pid"] == me).all()
    assert (monte_carlo(_pid, 8, n_jobs=2)["pid"] == me).all()
    assert (monte_carlo(_pid, 8, n_jobs=2, min_parallel_seconds=0)["pid"] != me).all()


def test_a_slow_first_replication_does_not_send_a_toy_study_to_the_workers():
    """20 ms of warm-up then 1000 fast replications: estimated from the first alone,
    the rest would look like 20 s of work."""
    import os

    frame = monte_carlo(_slow_first_pid, 1000, n_jobs=2)
    assert (frame["pid"] == os.getpid()).all()


@pytest.mark.parametrize("name", ["n", "rep", "error"])
def test_metrics_may_not_overwrite_grid_or_engine_columns(name):
    with pytest.raises(ValueError, match=rf"func returned metrics named \['{name}'\]"):
        monte_carlo(lambda rng, n: {name: 1.0}, 2, grid={"n": [1]})


def test_summarize_hundreds_of_metrics_without_a_pandas_warning():
    frame = pd.DataFrame({"rep": range(4), **{f"m{j}": np.arange(4.0) * j for j in range(300)}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = summarize(frame)
    assert table.shape == (1, 900) and table["m7_mean"].iloc[0] == pytest.approx(10.5)
