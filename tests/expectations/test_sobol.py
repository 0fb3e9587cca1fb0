"""sobol_indices: first, total and second order, many outputs, names, errors, n_jobs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from statlogit import IndependentMarginals, MultipleExpectations, sobol_indices
from statlogit.datasets import ishigami, ishigami_indices

METHODS = ["iscv", "pick-freeze", "saltelli"]
UNIFORM = [stats.uniform(-np.pi, 2 * np.pi)] * 3


@pytest.mark.parametrize("method", METHODS)
def test_ishigami_all_orders_within_four_se(method):
    first, total, second = ishigami_indices()
    res = sobol_indices(ishigami, UNIFORM, 4000, second_order=True, method=method,
                        random_state=1)
    for got, truth, order in ((res.first_order, first, "first"),
                              (res.total_order, total, "total"),
                              (res.second_order, second, "second")):
        se = res.std_errors_[order].to_numpy()
        assert np.all(np.abs(got.to_numpy() - truth) < 4 * se + 1e-3), (order, got)
    assert res.n_model_runs == 4000 * (2 * 3 + 2)
    assert list(res.first_order.index) == ["x1", "x2", "x3"]
    assert list(res.second_order.index) == ["x1:x2", "x1:x3", "x2:x3"]


@pytest.mark.parametrize("method", METHODS)
def test_constant_model_is_refused(method):
    """Issue 14 (7): method="iscv" returned first-order indices of 1 with SE 1e-16."""
    with pytest.raises(ValueError, match="same value.*constant"):
        sobol_indices(lambda X: np.full(X.shape[0], 3.7), UNIFORM, 2000, method=method,
                      random_state=0)


@pytest.mark.parametrize("method", METHODS)
def test_extreme_output_scales_leave_the_indices_unchanged(method):
    base = sobol_indices(ishigami, UNIFORM, 2000, method=method, random_state=3)
    for scale in (1e-300, 1e155, 1e300):
        res = sobol_indices(lambda X, s=scale: s * ishigami(X), UNIFORM, 2000,
                            method=method, random_state=3)
        assert np.all(np.isfinite(res.table_["std_error"]))
        if method == "iscv":  # rounding moves the adaptive run: equal within its noise
            gap = np.abs(res.table_["estimate"] - base.table_["estimate"])
            assert np.all(gap < 4 * np.hypot(res.table_["std_error"],
                                             base.table_["std_error"]))
        else:
            np.testing.assert_allclose(res.table_["estimate"], base.table_["estimate"],
                                       rtol=1e-8, atol=1e-10)


def test_complex_and_wrong_shaped_models_are_refused():
    with pytest.raises(ValueError, match="complex"):
        sobol_indices(lambda X: ishigami(X) + 1j, UNIFORM, 1000, random_state=0)
    with pytest.raises(ValueError, match="model must map"):
        sobol_indices(lambda X: ishigami(X)[:-1], UNIFORM, 1000, random_state=0)


def _two_outputs(X):
    return np.column_stack([ishigami(X), X[:, 0] + 2 * X[:, 1] ** 2])


@pytest.mark.parametrize("method", ["pick-freeze", "saltelli"])
def test_multi_output_equals_each_output_alone_and_aggregates(method):
    res = sobol_indices(_two_outputs, UNIFORM, 3000, method=method, random_state=4)
    for k, name in enumerate(["y0", "y1"]):
        alone = sobol_indices(lambda X, k=k: _two_outputs(X)[:, k], UNIFORM, 3000,
                              method=method, random_state=4)
        np.testing.assert_allclose(res.first_order[name], alone.first_order.to_numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(res.total_order[name], alone.total_order.to_numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(res.std_errors[name], alone.std_errors.to_numpy(),
                                   rtol=1e-10)
        np.testing.assert_allclose(res.output_variances[name],
                                   alone.output_variances.iloc[0], rtol=1e-12)
    # aggregated = sum_k V_k S_k / sum_k V_k, with V_k each output's variance estimate
    variances = res.output_variances.to_numpy()
    for order in ("first_order", "total_order"):
        frame = getattr(res, order)
        expected = frame[["y0", "y1"]].to_numpy() @ variances / variances.sum()
        np.testing.assert_allclose(frame["aggregated"], expected, rtol=1e-12)


def test_dataframe_outputs_and_dict_inputs_label_the_results():
    def model(X):
        return pd.DataFrame({"lift": ishigami(X), "drag": X[:, 0] ** 2 + X[:, 2]})

    inputs = {"alpha": UNIFORM[0], "beta": UNIFORM[1], "gamma": UNIFORM[2]}
    res = sobol_indices(model, inputs, 1000, method="saltelli", random_state=0)
    assert list(res.first_order.columns) == ["lift", "drag", "aggregated"]
    assert list(res.first_order.index) == ["alpha", "beta", "gamma"]
    assert res.conf_int(order="total").shape == (9, 2)
    named = sobol_indices(ishigami, IndependentMarginals(UNIFORM), 1000,
                          names=["a", "b", "c"], method="saltelli", random_state=0)
    assert list(named.total_order.index) == ["a", "b", "c"]


def test_the_list_rule_errors_name_the_other_reading():
    with pytest.raises(ValueError, match="IndependentMarginals"):
        MultipleExpectations(budget=4000, random_state=0).fit(
            lambda X: X[:, 0] + X[:, 1], [stats.norm(10, 2), stats.lognorm(0.25, scale=5)])
    with pytest.raises(ValueError, match="univariate marginals"):
        sobol_indices(lambda X: X[:, 0], [stats.multivariate_normal(np.zeros(2))], 1000)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"orders": ("first", "third")}, "orders"),
    ({"orders": ()}, "orders"),
    ({"second_order": "yes"}, "second_order"),
    ({"method": "bogus"}, "method"),
    ({"names": ["a", "a", "b"]}, "names"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"batch_size": 0}, "batch_size"),
    ({"method": "saltelli", "defensive": 0.1}, "only apply"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sobol_indices(ishigami, UNIFORM, 1000, **kwargs)


@pytest.mark.parametrize("method", ["iscv", "saltelli"])
def test_results_do_not_depend_on_n_jobs_or_batches(method):
    serial = sobol_indices(ishigami, UNIFORM, 2000, method=method, random_state=5)
    parallel = sobol_indices(ishigami, UNIFORM, 2000, method=method, random_state=5,
                             n_jobs=2, batch_size=1500)
    pd.testing.assert_frame_equal(serial.table_, parallel.table_, check_exact=True)


def test_result_api_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    res = sobol_indices(ishigami, UNIFORM, 1000, method="saltelli", random_state=0)
    ax = res.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x1", "x2", "x3"]
    assert "Sobol' indices" in res.summary().as_text()
    with pytest.raises(ValueError, match="second-order indices were not computed"):
        res.conf_int(order="second")


def test_conf_int_takes_alpha_and_refuses_a_coverage_level():
    res = sobol_indices(ishigami, UNIFORM, 1000, method="saltelli", random_state=0)
    ci = res.conf_int(0.1, order="first")
    half = ci["upper"] - ci["lower"]
    np.testing.assert_allclose(half, 2 * 1.6448536269514722 * res.std_errors, rtol=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(0.95)


def test_iscv_multi_output_agrees_with_each_output_alone_within_error():
    res = sobol_indices(_two_outputs, UNIFORM, 3000, method="iscv", random_state=4)
    for k, name in enumerate(["y0", "y1"]):
        alone = sobol_indices(lambda X, k=k: _two_outputs(X)[:, k], UNIFORM, 3000,
                              method="iscv", random_state=4)
        for order in ("first", "total"):
            joint = res.table_[(res.table_["order"] == order)
                               & (res.table_["output"] == name)]
            single = alone.table_[alone.table_["order"] == order]
            gap = np.abs(joint["estimate"].to_numpy() - single["estimate"].to_numpy())
            bound = 4 * np.hypot(joint["std_error"].to_numpy(),
                                 single["std_error"].to_numpy())
            assert np.all(gap < bound + 1e-3), (name, order, gap, bound)


@pytest.mark.parametrize("method", METHODS)
def test_an_input_without_effect_gets_indices_of_exactly_zero(method):
    """Its total-order integrand vanishes everywhere (iscv once refused it)."""
    inputs = UNIFORM + [stats.norm()]
    res = sobol_indices(lambda X: ishigami(X[:, :3]), inputs, 3000, method=method,
                        random_state=0)
    assert res.total_order["x4"] == 0.0 and res.std_errors_["total"]["x4"] == 0.0
    first, total, _ = ishigami_indices()
    assert np.all(np.abs(res.total_order.to_numpy()[:3] - total)
                  < 4 * res.std_errors_["total"].to_numpy()[:3])


def _three_outputs(X):
    return np.column_stack([ishigami(X), X[:, 0] + 2 * X[:, 1] ** 2,
                            np.sin(X[:, 2]) * X[:, 0]])


@pytest.mark.parametrize("method", METHODS)
def test_every_output_equals_its_run_alone_and_the_aggregate_its_definition(method):
    """Issue 17: per-output indices equal running each output alone (same seed); with
    "iscv" each output gets its own sampler (here they stop adapting at different
    steps), and the model runs in one call per stage."""
    calls = []

    def model(X):
        calls.append(X.shape[0])
        return _three_outputs(X)

    res = sobol_indices(model, UNIFORM, 3000, second_order=True, method=method,
                        random_state=np.random.default_rng(4))
    assert res.n_model_runs == sum(calls) == 8 * res.n_design_points
    if method == "iscv":
        assert len({len(est.history_) for est in res.estimator}) > 1
        assert len(calls) <= 1 + 5  # the shared pilot, then one call per stage
        pilot = res.estimator[0].history_["n_points"].iloc[0]
        assert res.n_design_points == pilot + 3 * (3000 - pilot)
    else:
        assert len(calls) == 1 and res.n_design_points == 3000
    for k in range(3):
        alone = sobol_indices(lambda X, k=k: _three_outputs(X)[:, k], UNIFORM, 3000,
                              second_order=True, method=method,
                              random_state=np.random.default_rng(4))
        mine = res.table_[res.table_["output"] == f"y{k}"]
        for column in ("estimate", "std_error"):
            np.testing.assert_allclose(mine[column], alone.table_[column], rtol=1e-12,
                                       atol=1e-15)
        np.testing.assert_allclose(res.output_variances.iloc[k],
                                   alone.output_variances.iloc[0], rtol=1e-12)
    variances = res.output_variances.to_numpy()
    for order in ("first_order", "total_order", "second_order"):
        frame = getattr(res, order)
        expected = frame[["y0", "y1", "y2"]].to_numpy() @ variances / variances.sum()
        np.testing.assert_allclose(frame["aggregated"], expected, rtol=1e-12, atol=1e-15)
    assert np.all(res.std_errors_["aggregated"].to_numpy() > 0)


def test_joint_iscv_shares_one_sample_and_agrees_within_error():
    joint = sobol_indices(_two_outputs, UNIFORM, 3000, random_state=4,
                          multi_output="joint")
    assert joint.n_model_runs == 3000 * (3 + 2)
    separate = sobol_indices(_two_outputs, UNIFORM, 3000, random_state=4)
    gap = np.abs(joint.table_["estimate"] - separate.table_["estimate"])
    assert np.all(gap < 4 * np.hypot(joint.table_["std_error"],
                                     separate.table_["std_error"]) + 1e-3)
    with pytest.raises(ValueError, match="multi_output"):
        sobol_indices(_two_outputs, UNIFORM, 3000, multi_output="shared")


def test_rqmc_replicates_and_their_errors():
    """sampling="rqmc": one model call for all replicates, results labelled like the
    others, Student-t intervals, identical for any n_jobs, per-output equality, and
    errors naming what to change."""
    calls = []

    def model(X):
        calls.append(X.shape[0])
        return _two_outputs(X)

    res = sobol_indices(model, UNIFORM, 1024, method="saltelli", sampling="rqmc",
                        n_replicates=8, random_state=3)
    assert calls == [1024 * 5] and res.df == 7 and res.n_design_points == 1024
    first, total, _ = ishigami_indices()
    se = res.std_errors_["y0"]
    assert np.all(np.abs(res.first_order["y0"].to_numpy() - first)
                  < 5 * se["first"].to_numpy() + 1e-3)
    ci = res.conf_int(0.05, order="total")
    half = (ci["upper"] - ci["lower"]).to_numpy() / 2
    np.testing.assert_allclose(half, stats.t.ppf(0.975, 7)
                               * res.std_errors_.loc["total"].to_numpy().T.ravel(),
                               rtol=1e-12)
    assert "Student-t" in res.summary().as_text()
    alone = sobol_indices(lambda X: _two_outputs(X)[:, 1], UNIFORM, 1024,
                          method="saltelli", sampling="rqmc", n_replicates=8,
                          random_state=3)
    mine = res.table_[res.table_["output"] == "y1"]
    np.testing.assert_allclose(mine["estimate"], alone.table_["estimate"], rtol=1e-12)
    np.testing.assert_allclose(mine["std_error"], alone.table_["std_error"],
                               rtol=1e-12)
    parallel = sobol_indices(model, UNIFORM, 1024, method="saltelli", sampling="rqmc",
                             n_replicates=8, random_state=3, n_jobs=2, batch_size=900)
    pd.testing.assert_frame_equal(res.table_, parallel.table_, check_exact=True)
    for kwargs, message in (({"budget": 1000}, "power of two.*budget=512 or 1024"),
                            ({"n_replicates": 1}, "n_replicates"),
                            ({"method": "iscv"}, "saltelli"),
                            ({"sampling": "sobol"}, "sampling")):
        arguments = {"budget": 1024, "method": "saltelli", "sampling": "rqmc", **kwargs}
        budget = arguments.pop("budget")
        with pytest.raises(ValueError, match=message):
            sobol_indices(ishigami, UNIFORM, budget, **arguments)
