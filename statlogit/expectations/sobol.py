r"""Sobol' indices (first, total and second order) by pick-freeze, estimated with aISCV
or plain Monte Carlo."""

import numpy as np
import pandas as pd
from scipy import special, stats

from statlogit.expectations._evaluation import Evaluator
from statlogit.expectations._problem import check_alpha
from statlogit.expectations._rqmc import fit_rqmc
from statlogit.expectations._sobol_design import PickFreezeDesign, Ratio
from statlogit.expectations._sobol_runs import fit_per_output
from statlogit.expectations.adaptive import MultipleExpectations
from statlogit.expectations.baselines import MonteCarloExpectations
from statlogit.expectations.laws import GaussianCopula, IndependentMarginals
from statlogit.inference import summary_from_table

METHODS = ("iscv", "pick-freeze", "saltelli")
ORDER_NAMES = {"first": "first_order", "total": "total_order", "second": "second_order",
               "shapley": "shapley_effects"}


def sobol_indices(model, inputs, budget=20_000, *, orders=("first", "total"),
                  second_order=False, method="iscv", names=None, n_jobs=None,
                  batch_size=None, random_state=None, multi_output="per-output",
                  sampling="random", n_replicates=16, **options):
    r"""Sobol' indices of independent inputs by pick-freeze.

    With X, X' independent copies of the input, :math:`X^{(i)}` equal to X' except for
    coordinate i (taken from X), :math:`X^{(\sim j)}` equal to X except for coordinate
    j (taken from X'), and :math:`V = \operatorname{Var} f(X)`:

    .. math::
        S_i = \frac{\operatorname{Cov}(f(X), f(X^{(i)}))}{V},\qquad
        S^T_i = \frac{E[(f(X') - f(X^{(i)}))^2]}{2V}\ \text{(Jansen)},\qquad
        S_{ij} = \frac{\operatorname{Cov}(f(X^{(i)}), f(X^{(\sim j)}))}{V}
                 - S_i - S_j .

    Every numerator and V are expectations under the product law :math:`f\otimes f`,
    written in standard normal coordinates :math:`u\in\mathbb R^{2d}`; all of them
    are estimated from **one** sample of u, and the indices (ratios) get delta-method
    standard errors from the covariance of the expectations.

    * ``method="pick-freeze"``: plain Monte Carlo, first order as in Sobol' (1993),
      :math:`(E[f(X)f(X^{(i)})] - E[f]^2)/(E[f^2]-E[f]^2)`.
    * ``method="saltelli"``: plain Monte Carlo with Saltelli et al.'s (2010) first-order
      numerator :math:`E[f(X)(f(X^{(i)}) - f(X'))]` and
      :math:`V = E[(f(X) - f(X'))^2]/2` (no cancellation for small indices).
    * ``sampling="rqmc"`` (with ``"saltelli"`` or ``"pick-freeze"``): the design
      points are the normal scores of ``n_replicates`` independently scrambled Sobol'
      sequences of ``budget / n_replicates`` points (a power of two) instead of
      random points; each replicate's estimates are unbiased and independent of the
      others', so the standard errors come from the spread between replicates (R - 1
      degrees of freedom; :meth:`SobolResult.conf_int` uses Student-t quantiles).
      Less accurate than one scrambled sequence of ``budget`` points (as SALib and
      scipy use), whose error cannot be estimated from its own sample, more accurate
      than random points on smooth models.
    * ``method="iscv"``: the expectations by adaptive importance sampling with control
      variates (:class:`MultipleExpectations`, ``weights="absolute"``; the paper's full
      covariances when each adaptive batch has at least 10 points per covariance
      parameter, else ``covariance="diag", defensive=0.1``; ``options`` override
      these): Saltelli's integrands when f(X') is run anyway (total or second
      order requested), else Sobol' (1993)'s, as in the paper (d + 1 runs per point).

    **Multi-output models** (``model`` returns (n, s)): indices per output, and the
    aggregated indices of Gamboa et al. (2014), :math:`\sum_k V_k S_{i,k} / \sum_k V_k`
    (each output's partial variance summed over the outputs, over the summed
    variances). An output's indices and standard errors equal those of a run on that
    output alone with the same ``random_state``, for every method:

    * the Monte Carlo methods use one sample of ``budget`` design points for all
      outputs (the same points as each one-output run);
    * ``"iscv"`` with ``multi_output="per-output"`` (default) adapts one sampler per
      output, each from the same random stream as a one-output run. The pilot (the
      first :math:`N_k = \lfloor\lfloor N a\rfloor / B\rfloor` points, not adaptive)
      is the same sample for every output and runs the model once; every later stage
      gives each output its own points, all outputs' points going to the model in one
      batched call per stage. ``budget`` is **per output**: the model runs
      :math:`(N_k + s\,(N - N_k))` times ``runs_per_point`` (``n_model_runs``), about
      s times a one-output run. The final samples use common random numbers, and the
      covariance between outputs that the aggregated indices need is estimated from
      these pairs.
    * ``"iscv"`` with ``multi_output="joint"``: one adaptive sample of ``budget``
      points for all outputs (the paper's theme: one sample, many expectations), so
      the model runs ``budget * runs_per_point`` times whatever s is; the sampler
      compromises between the outputs' integrands, so an output's indices differ from
      its one-output run (they agree within standard errors) and are usually less
      precise than with a sampler of its own. Worth it when model runs are the
      limit and the outputs are alike (they respond to the same inputs).

    **Lists of laws.** ``inputs`` always describes *one* input vector, so a list (or a
    dict name -> law) gives its independent univariate marginals, in order. (In
    :meth:`MultipleExpectations.fit` a list means alternative laws; there, wrap
    marginals in :class:`IndependentMarginals`.) Dependent inputs: see
    :func:`shapley_effects`.

    Parameters
    ----------
    model : callable
        Maps an (n, d) array to (n,) or (n, s) finite real outputs (a DataFrame's
        columns name the outputs).
    inputs : list or dict of frozen univariate scipy.stats laws, or IndependentMarginals
    budget : int
        Design points u; each costs ``runs_per_point`` model runs: d + 1 (first order
        only, "iscv" or "pick-freeze"), d + 2 (with total order, or "saltelli"), plus d
        with ``second_order``.
    orders : str or sequence of {"first", "total"}
    second_order : bool
        Also the second-order (pair) indices :math:`S_{ij}`, i < j.
    method : {"iscv", "pick-freeze", "saltelli"}
    names : sequence of str, optional
        Input names (default: the dict's keys, else x1..xd).
    n_jobs, batch_size : int or None
        The model runs go to joblib in batches (``joblib.parallel_config(backend=
        "dask")`` sends them to a dask.distributed cluster); results do not depend on
        either.
    random_state : None, int, SeedSequence or Generator
    multi_output : {"per-output", "joint"}
        For ``method="iscv"`` and a model with several outputs: one adaptive run per
        output (default) or one for all (see above). The Monte Carlo methods always
        share one sample.
    sampling : {"random", "rqmc"}
        Random design points, or randomised quasi-Monte Carlo (see above; Monte
        Carlo methods only).
    n_replicates : int
        Independent scramblings with ``sampling="rqmc"`` (at least 2).
    **options
        Passed to :class:`MultipleExpectations` (``method="iscv"`` only).

    Returns
    -------
    SobolResult
    """
    orders, method = _check_orders(orders, second_order), _check_method(method)
    if multi_output not in ("per-output", "joint"):
        raise ValueError("multi_output must be 'per-output' or 'joint'; got "
                         f"{multi_output!r}.")
    if options and method != "iscv":
        raise ValueError(f"options {sorted(options)} only apply to method='iscv'.")
    if sampling not in ("random", "rqmc"):
        raise ValueError(f"sampling must be 'random' or 'rqmc'; got {sampling!r}.")
    if sampling == "rqmc" and method == "iscv":
        raise ValueError("sampling='rqmc' applies to method='saltelli' or "
                         "'pick-freeze' (aISCV draws from its adaptive mixtures).")
    law, input_names = as_independent_inputs(inputs, names)
    d = law.dim
    evaluator = Evaluator(model, n_jobs=n_jobs, batch_size=batch_size, name="model")
    with_prime = "total" in orders or second_order  # f(X') is run anyway
    form = "saltelli" if method == "saltelli" or (method == "iscv" and with_prime) \
        else "sobol"
    design = PickFreezeDesign(evaluator, law, total="total" in orders,
                              second=second_order, form=form)
    standard = stats.multivariate_normal(np.zeros(2 * d), np.eye(2 * d))
    # the design runs in this process (it calibrates the output on its first call);
    # the model runs inside it go to joblib
    if method == "iscv":
        options = {**_iscv_defaults(budget, 2 * d, options), **options, "n_jobs": 1}
    df = None
    if sampling == "rqmc":
        estimator = None
        E, cov_E, df = fit_rqmc(design, budget, n_replicates, random_state)
    elif method == "iscv" and multi_output == "per-output":
        estimator, E, cov_E = fit_per_output(design, budget, options, random_state)
        if len(estimator) == 1:
            estimator = estimator[0]
    else:
        if method == "iscv":
            estimator = MultipleExpectations(budget=budget, random_state=random_state,
                                             **options)
        else:
            estimator = MonteCarloExpectations(budget=budget, random_state=random_state,
                                               n_jobs=1)
        estimator.fit(design, standard)
        E, cov_E = estimator.estimates_, estimator.covariance_
    output_names = _output_names(evaluator.output_names, design.n_outputs)
    result = SobolResult._from_fit(E, cov_E, estimator, design, orders, input_names,
                                   output_names, method)
    result.df = df
    return result


def _iscv_defaults(budget, dim, options):
    """aISCV settings for the pick-freeze problem in dimension ``dim`` = 2d: the paper's
    (full covariances, no defensive share) when every adaptive batch holds at least 10
    points per covariance parameter; else diagonal covariances and a defensive share
    of 0.1 (full ones fitted on fewer points gave errors of several units on the G
    function at 10^4 model runs). Integrands that vanish on the pilot (the total
    order of an input without effect) are kept (``zero_targets="keep"``)."""
    fraction = options.get("adaptive_fraction", 0.5)
    n_batches = options.get("n_batches", 5)
    try:
        batch = int(int(budget) * float(fraction)) // int(n_batches)
    except (TypeError, ValueError, OverflowError):
        batch = 0  # MultipleExpectations reports the bad value by name
    defaults = {"weights": "absolute", "zero_targets": "keep"}
    if batch < 10 * dim * (dim + 1) // 2:
        defaults.update(covariance="diag", defensive=0.1)
    return defaults


def _check_orders(orders, second_order):
    if isinstance(orders, str):
        orders = (orders,)
    try:
        orders = tuple(orders)
    except TypeError:
        orders = None
    if not orders or not set(orders) <= {"first", "total"}:
        raise ValueError(f"orders must be 'first', 'total' or both; got {orders!r} "
                         "(second-order indices: second_order=True).")
    if not isinstance(second_order, bool | np.bool_):
        raise ValueError(f"second_order must be True or False; got {second_order!r}.")
    return tuple(o for o in ("first", "total") if o in orders) + (
        ("second",) if second_order else ())


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    return method


def as_independent_inputs(inputs, names=None):
    """IndependentMarginals and input names from a list, a dict or the adapter."""
    if isinstance(inputs, GaussianCopula):
        raise ValueError("inputs is a GaussianCopula (dependent inputs): Sobol' indices "
                         "assume independent inputs; use shapley_effects for dependent "
                         "ones.")
    keys = None
    if isinstance(inputs, IndependentMarginals):
        law = inputs
    elif isinstance(inputs, dict):
        keys = [str(k) for k in inputs]
        law = _marginals(list(inputs.values()))
    elif isinstance(inputs, list | tuple):
        law = _marginals(list(inputs))
    else:
        raise TypeError("inputs must be a list or dict of frozen univariate scipy.stats "
                        f"laws or IndependentMarginals; got {type(inputs).__name__}.")
    if names is None:
        names = keys or [f"x{r + 1}" for r in range(law.dim)]
    names = [str(n) for n in names]
    if len(names) != law.dim or len(set(names)) != law.dim:
        raise ValueError(f"names must be {law.dim} distinct names, one per input; got "
                         f"{names!r}.")
    return law, names


def _marginals(laws):
    for r, law in enumerate(laws):
        dim = getattr(law, "dim", 1)
        if dim != 1 or isinstance(law, stats._multivariate.multi_rv_frozen):
            raise ValueError(
                f"inputs[{r}] is a multivariate law: a list of inputs is read as the "
                "independent univariate marginals of one input vector, one per "
                "coordinate (for alternative laws of the whole vector use "
                "MultipleExpectations.fit with a list)."
            )
    return IndependentMarginals(laws)


def _output_names(names, n_outputs):
    if names is not None:
        return list(names)
    return ["y"] if n_outputs == 1 else [f"y{k}" for k in range(n_outputs)]


class SobolResult:
    r"""Sobol' indices with delta-method standard errors, labelled by input and output.

    For a scalar model the index attributes are Series indexed by input name; for a
    model with s > 1 outputs they are DataFrames with one column per output plus
    ``"aggregated"`` (Gamboa et al.).

    Attributes
    ----------
    first_order, total_order : pandas.Series or DataFrame (None if not requested)
    second_order : pandas.Series or DataFrame or None
        Indexed by ``"a:b"`` for the pair of inputs a, b.
    std_errors : pandas.Series or DataFrame
        Standard errors of the first-order indices (the layout of ``first_order``).
    std_errors_ : pandas.Series or DataFrame
        Standard errors of every index, indexed by (order, input).
    table_ : pandas.DataFrame
        One row per index: order, input, output, estimate, std_error.
    covariance : ndarray
        Delta-method covariance of the indices, in the rows of ``table_``.
    expectations : ndarray
        The estimated expectations (of the model output centred and scaled once, which
        leaves the indices unchanged).
    estimator : MultipleExpectations, MonteCarloExpectations, list or None
        The fitted estimator; with ``method="iscv"``, ``multi_output="per-output"``
        and several outputs, a list of one MultipleExpectations per output; None with
        ``sampling="rqmc"``.
    n_model_runs : int
        How many times the model ran: ``budget * runs_per_point``, except for
        ``"iscv"`` with one run per output (see :func:`sobol_indices`).
    n_design_points : int
        ``n_model_runs / runs_per_point``.
    df : int or None
        Degrees of freedom of the standard errors (``n_replicates - 1`` with
        ``sampling="rqmc"``; None: normal approximation).
    method : str
    output_variances : pandas.Series
        The estimated variance of each output (the denominators; ``inf`` beyond
        float64's range), which weight the aggregated indices.
    """

    def __init__(self, table, covariance, expectations, estimator, n_model_runs, method):
        self.table_ = table
        self.covariance = covariance
        self.expectations = expectations
        self.estimator = estimator
        self.n_model_runs = n_model_runs
        self.method = method
        outputs = list(dict.fromkeys(table["output"]))
        self._scalar = len(outputs) == 1
        for order, attribute in ORDER_NAMES.items():
            setattr(self, attribute, self._layout(order, "estimate"))
        self.std_errors = self._layout("first", "std_error")
        index = ["order", "input"] + ([] if self._scalar else ["output"])
        frame = table.set_index(index)["std_error"]
        self.std_errors_ = frame if self._scalar else frame.unstack("output")[outputs]

    def _layout(self, order, column):
        rows = self.table_[self.table_["order"] == order]
        if rows.empty:
            return None
        if self._scalar:
            return pd.Series(rows[column].to_numpy(), index=pd.Index(rows["input"],
                             name="input"), name=order if column == "estimate" else
                             "std_error")
        wide = rows.pivot(index="input", columns="output", values=column)
        return wide.loc[list(dict.fromkeys(rows["input"])),
                        list(dict.fromkeys(rows["output"]))]

    @classmethod
    def _from_fit(cls, E, cov_E, estimator, design, orders, input_names, output_names,
                  method):
        per_output = [design.ratios(k) for k in range(design.n_outputs)]
        groups = list(zip(output_names, per_output, strict=True))
        if len(groups) > 1:
            relative = (design.scale / design.scale.max()) ** 2
            groups.append(("aggregated", _aggregate(per_output, relative)))
        rows, grads = [], []
        for output, ratios in groups:
            for order in orders:
                for key, ratio in ratios[order].items():
                    num, den, grad = ratio.value_and_gradient(E)
                    if not den > 0:
                        raise ValueError(
                            f"the estimated variance of output {output!r} is not "
                            "positive: the model is (nearly) constant at this budget; "
                            "check the model or raise budget."
                        )
                    label = (input_names[key] if order != "second" else
                             f"{input_names[key[0]]}:{input_names[key[1]]}")
                    rows.append({"order": order, "input": label, "output": output,
                                 "estimate": num / den})
                    grads.append(grad)
        variances = [ratios["first"][0].value_and_gradient(E)[1] for ratios in per_output]
        with np.errstate(over="ignore"):
            variances = np.array(variances) * design.scale * design.scale
        jac = np.array(grads)
        cov = jac @ cov_E @ jac.T
        table = pd.DataFrame(rows)
        table["std_error"] = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        result = cls(table, cov, E, estimator, design.n_runs, method)
        result.n_design_points = design.n_runs // design.runs_per_point
        result.output_variances = pd.Series(variances, index=output_names,
                                            name="variance")
        return result

    def _rows(self, order):
        if order is None:
            return self.table_
        if order not in ORDER_NAMES:
            raise ValueError(f"order must be None or one of {tuple(ORDER_NAMES)}; got "
                             f"{order!r}.")
        rows = self.table_[self.table_["order"] == order]
        if rows.empty:
            raise ValueError(f"{order}-order indices were not computed.")
        return rows

    def _index(self, rows, order):
        keys = ([] if order is not None else ["order"]) + ["input"] + (
            [] if self._scalar else ["output"])
        return pd.MultiIndex.from_frame(rows[keys]) if len(keys) > 1 else pd.Index(
            rows["input"], name="input")

    def conf_int(self, alpha=0.05, order="first"):
        """Normal-approximation intervals: DataFrame with columns lower, upper.

        Parameters
        ----------
        alpha : float
            1 - coverage, in (0, 0.5] (``0.05`` for 95 % intervals; a value above 0.5
            is refused, as it is most likely a coverage level).
        order : {"first", "total", "second", "shapley"} or None
            Which indices (None: all, indexed by order too).
        """
        alpha = check_alpha(alpha)
        rows = self._rows(order)
        df = getattr(self, "df", None)
        quantile = (special.ndtri(1.0 - alpha / 2.0) if df is None else
                    special.stdtrit(df, 1.0 - alpha / 2.0))
        half = quantile * rows["std_error"].to_numpy()
        est = rows["estimate"].to_numpy()
        return pd.DataFrame({"lower": est - half, "upper": est + half},
                            index=self._index(rows, order))

    def summary(self, alpha=0.05):
        """statsmodels Summary of every index with its standard error and interval."""
        ci = self.conf_int(alpha, order=None)
        table = pd.DataFrame({"estimate": self.table_["estimate"].to_numpy(),
                              "std err": self.table_["std_error"].to_numpy(),
                              f"[{alpha / 2:g}": ci["lower"].to_numpy(),
                              f"{1 - alpha / 2:g}]": ci["upper"].to_numpy()},
                             index=[" ".join(map(str, key)) for key in ci.index])
        info = {"Method": self.method, "Model runs": self.n_model_runs}
        if getattr(self, "df", None) is not None:
            info["Sampling"] = f"RQMC, {self.df + 1} replicates"
        if getattr(self, "n_design_points", None) is not None:
            info["Design points"] = self.n_design_points
        title = "Shapley effects" if self.method == "shapley" else "Sobol' indices"
        note = ("Standard errors: spread over the random orders, delta method for V."
                if self.method == "shapley" else
                "Standard errors: delta method on the expectations' covariance.")
        if getattr(self, "df", None) is not None:
            note += (f" Covariance from {self.df + 1} scrambled Sobol' replicates; "
                     f"Student-t intervals with {self.df} degrees of freedom.")
        return summary_from_table(table, title=title, info=info, notes=[note])

    def plot(self, ax=None, alpha=0.05, output=None):
        """Bar chart of the first- and total-order indices with (1 - alpha) intervals.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        alpha : float
        output : str, optional
            Which output of a multi-output model (default: ``"aggregated"``).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
        ci = self.conf_int(alpha, order=None)
        table = self.table_.assign(lower=ci["lower"].to_numpy(),
                                   upper=ci["upper"].to_numpy())
        if not self._scalar:
            output = "aggregated" if output is None else output
            table = table[table["output"] == output]
        shown = [o for o in ("first", "total", "shapley") if (table["order"] == o).any()]
        inputs = list(dict.fromkeys(table.loc[table["order"] == shown[0], "input"]))
        x = np.arange(len(inputs))
        width = 0.8 / len(shown)
        for t, order in enumerate(shown):
            rows = table[table["order"] == order].set_index("input").loc[inputs]
            err = np.vstack([rows["estimate"] - rows["lower"],
                             rows["upper"] - rows["estimate"]])
            ax.bar(x + (t - (len(shown) - 1) / 2) * width, rows["estimate"], width,
                   yerr=err, capsize=3,
                   label="Shapley effect" if order == "shapley" else f"{order} order")
        ax.set_xticks(x, inputs)
        ax.set(ylabel="share of the output variance", xlabel="input")
        if output is not None:
            ax.set_title(f"output: {output}")
        ax.legend(fontsize=8)
        return ax


def _aggregate(per_output, weights):
    """Gamboa et al.'s aggregated ratios: summed numerators over summed variances, each
    output's in its own units (``weights``: the squared scales, up to one factor)."""
    total = {}
    for order in ("first", "total", "second"):
        total[order] = {}
        for key in per_output[0][order]:
            ratio = Ratio(per_output[0][order][key].num.shape[1])
            for ratios, weight in zip(per_output, weights, strict=True):
                ratio += ratios[order][key].scaled(weight)
            total[order][key] = ratio
    return total
