r"""Pick-freeze designs for Sobol' indices and the algebra from expectations to indices.

A point of the design is :math:`u = (z, z')\in\mathbb R^{2d}`, standard normal, mapped
to two independent input vectors :math:`X = T(z)`, :math:`X' = T(z')` by the marginals'
normal scores. The model runs at

* :math:`X` and (when needed) :math:`X'`;
* :math:`X^{(i)} = (X'_1, .., X_i, .., X'_d)`: coordinate i from X, the rest from X'
  (shares coordinate i with X and all but i with X');
* for second-order indices, :math:`X^{(\sim j)}`: X with coordinate j from X' (shares
  exactly :math:`\{i, j\}` with :math:`X^{(i)}`).

Every index is a ratio of two quadratic functions :math:`a^\top E + q^\top (E\odot E)`
of the vector E of expectations of integrands built from these runs, so its value and
gradient (for the delta method) come from the same two coefficient vectors.
"""

from itertools import combinations

import numpy as np

#: Integrand families: "sobol" (Sobol' 1993 first order, :math:`V = E[y^2]-E[y]^2`) and
#: "saltelli" (Saltelli et al. 2010 first order, :math:`V = E[(y-y')^2]/2`); both use
#: Jansen's total-order estimator.
FORMS = ("sobol", "saltelli")


class Ratio:
    r""":math:`(a^\top E + q^\top E^2) / (b^\top E + r^\top E^2)`."""

    def __init__(self, n):
        self.num = np.zeros((2, n))
        self.den = np.zeros((2, n))

    def __iadd__(self, other):
        self.num += other.num
        self.den += other.den
        return self

    def scaled(self, weight):
        """The ratio with numerator and denominator multiplied by ``weight``."""
        out = Ratio(self.num.shape[1])
        out.num, out.den = self.num * weight, self.den * weight
        return out

    @staticmethod
    def _eval(coef, E):
        return coef[0] @ E + coef[1] @ E**2, coef[0] + 2.0 * coef[1] * E

    def value_and_gradient(self, E):
        num, g_num = self._eval(self.num, E)
        den, g_den = self._eval(self.den, E)
        return num, den, (g_num - (num / den) * g_den) / den


class PickFreezeDesign:
    """The model runs of a batch of design points and the integrands at them.

    The output is centred and scaled once, on the first batch (the median of
    f(X) there and a power of two), which leaves every index unchanged and keeps the
    products of outputs far from overflow; a model whose outputs do not vary on that
    batch is refused.

    Parameters
    ----------
    evaluator : callable
        Runs the model: (m, d) inputs -> (m, s) checked outputs.
    inputs : IndependentMarginals
    total, second : bool
        Whether the total-order and the second-order indices are wanted.
    form : {"sobol", "saltelli"}
    """

    def __init__(self, evaluator, inputs, *, total, second, form):
        self.evaluator, self.inputs = evaluator, inputs
        self.d = d = inputs.dim
        self.total, self.second, self.form = total, second, form
        self.prime = form == "saltelli" or total or second
        self.pairs = list(combinations(range(d), 2)) if second else []
        self.centre = self.scale = None
        self.n_outputs = None
        self.first_call_runs = None
        self.n_runs = 0

    @property
    def runs_per_point(self):
        return 1 + self.prime + self.d + (self.d if self.second else 0)

    def runs(self, U):
        """The stacked model inputs, block after block, shape (runs_per_point * n, d)."""
        d = self.d
        return self._runs(self.inputs.from_normal(U[:, :d]),
                          self.inputs.from_normal(U[:, d:]))

    def _runs(self, x, xp):
        d = self.d
        blocks = [x, xp] if self.prime else [x]
        for i in range(d):
            hybrid = xp.copy()
            hybrid[:, i] = x[:, i]
            blocks.append(hybrid)
        for j in range(d if self.second else 0):
            hybrid = x.copy()
            hybrid[:, j] = xp[:, j]
            blocks.append(hybrid)
        return np.vstack(blocks)

    def __call__(self, U):
        """Integrands of every output at the design points U (n, 2d)."""
        return self.integrands(self.outputs([U])[0])

    def outputs(self, designs):
        """Centred, scaled model runs (blocks, n, s) at each array of design points in
        ``designs``, from one call of the evaluator on all their runs."""
        sizes = [U.shape[0] for U in designs]
        cuts = np.cumsum(sizes)[:-1]
        stacked = np.vstack(designs)  # one transformation for all (elementwise)
        x = np.split(self.inputs.from_normal(stacked[:, :self.d]), cuts)
        xp = np.split(self.inputs.from_normal(stacked[:, self.d:]), cuts)
        y = self.evaluator(np.vstack([self._runs(*pair) for pair in zip(x, xp,
                                                                         strict=True)]))
        self.n_runs += y.shape[0]
        stops = np.cumsum([self.runs_per_point * n for n in sizes])
        blocks = [part.reshape(self.runs_per_point, n, y.shape[1]) for part, n in
                  zip(np.split(y, stops[:-1]), sizes, strict=True)]
        if self.centre is None:
            self._calibrate(blocks[0])
        return [(part - self.centre) / self.scale for part in blocks]

    def _calibrate(self, y):
        self.n_outputs = y.shape[2]
        self.first_call_runs = y.shape[0] * y.shape[1]
        self.centre = np.median(y[0], axis=0)
        spread = np.max(np.abs(y - self.centre), axis=(0, 1))
        flat = np.flatnonzero(spread == 0)
        if flat.size:
            raise ValueError(
                f"model returned the same value at all {self.first_call_runs} runs "
                f"evaluated first (output {flat.tolist()[:5]}): a constant output has no "
                "variance to apportion, so its Sobol' indices are undefined. Drop that "
                "output; if it varies only in a small region, raise budget."
            )
        self.scale = 2.0 ** np.floor(np.log2(spread))

    def _block(self, y, name, i=None):
        offset = {"x": 0, "xp": 1, "pick": 1 + self.prime,
                  "comp": 1 + self.prime + self.d}[name]
        return y[offset + (i or 0)]

    def integrands(self, y):
        """Integrand columns (n, J) from centred runs y (blocks, n, s), output-major."""
        columns = []
        for k in range(y.shape[2]):
            yk = y[:, :, k]
            y0 = self._block(yk, "x")
            picks = [self._block(yk, "pick", i) for i in range(self.d)]
            yp = self._block(yk, "xp") if self.prime else None
            if self.form == "saltelli":
                columns += [y0 * (yi - yp) for yi in picks] + [0.5 * (y0 - yp) ** 2]
            else:
                columns += [y0 * yi for yi in picks] + [y0, y0**2]
            if self.total:
                columns += [0.5 * (yp - yi) ** 2 for yi in picks]
            for i, j in self.pairs:
                closed = self._block(yk, "comp", j) * picks[i]
                columns.append(closed - y0 * yp if self.form == "saltelli" else closed)
        return np.column_stack(columns)

    @property
    def head(self):
        """Columns before the totals: first-order ones, then V (or E[y], E[y^2])."""
        return self.d + (1 if self.form == "saltelli" else 2)

    @property
    def per_output(self):
        return self.head + self.d * self.total + len(self.pairs)

    def ratios(self, output):
        """Index ratios of one output: dicts first/total (by input) and second (by
        pair), plus the variance ratio's denominator."""
        n_cols = self.per_output * self.n_outputs
        base = output * self.per_output
        d = self.d
        first_col = [base + i for i in range(d)]
        total_col = [base + self.head + i for i in range(d)] if self.total else []
        pair_col = {pair: base + self.head + len(total_col) + t
                    for t, pair in enumerate(self.pairs)}

        def ratio():
            r = Ratio(n_cols)
            if self.form == "saltelli":
                r.den[0, base + d] = 1.0
            else:
                r.den[0, base + d + 1] = 1.0
                r.den[1, base + d] = -1.0
            return r

        m = base + d  # E[y] in the "sobol" form
        first, total, second = {}, {}, {}
        for i in range(d):
            first[i] = r = ratio()
            r.num[0, first_col[i]] = 1.0
            if self.form == "sobol":
                r.num[1, m] = -1.0
            if self.total:
                total[i] = r = ratio()
                r.num[0, total_col[i]] = 1.0
        for (i, j), col in pair_col.items():
            second[(i, j)] = r = ratio()
            r.num[0, [col, first_col[i], first_col[j]]] = (1.0, -1.0, -1.0)
            if self.form == "sobol":
                r.num[1, m] = 1.0  # C - m^2 - (A_i - m^2) - (A_j - m^2)
        return {"first": first, "total": total, "second": second}
