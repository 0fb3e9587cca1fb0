"""Gaussian (mixture) components, the mixture sampler and the recycled sample pool."""

from dataclasses import dataclass

import numpy as np
from scipy import special

from statlogit.expectations._gaussian_kernels import (
    gaussian_logpdf,
    gaussian_mixture_logpdf,
    logsumexp_rows,
)
from statlogit.expectations._weight_kernels import (
    control_variate_residuals,
    sampler_ratios,
)


@dataclass
class Components:
    r"""One Gaussian or one Gaussian mixture :math:`g_p` per part p.

    The Gaussians are stored part-major: Gaussian ``p * m + c`` is component c of part
    p, with log mixing weight ``log_pi[p * m + c]`` (m = 1 for single Gaussians).
    """

    means: np.ndarray
    chols: np.ndarray
    log_pi: np.ndarray
    n_parts: int

    @property
    def per_part(self):
        return self.means.shape[0] // self.n_parts

    def logpdf(self, X):
        """log g_p(X) for every part, shape (n, P)."""
        logp = gaussian_logpdf(X, self.means, self.chols)
        if self.per_part == 1:
            return logp + self.log_pi if np.any(self.log_pi) else logp
        logp += self.log_pi
        return special.logsumexp(logp.reshape(X.shape[0], self.n_parts, -1), axis=2)


@dataclass
class Sampler:
    r""":math:`g = \varepsilon q_0 + (1-\varepsilon)\sum_p \alpha_p g_p`."""

    components: Components
    alpha: np.ndarray
    defensive: float

    def logpdf(self, X, log_q0):
        """log g at the points X (log q_0 there is read only when defensive > 0)."""
        comps = self.components
        log_weights = np.repeat(np.log(self.alpha), comps.per_part) + comps.log_pi
        log_mix = gaussian_mixture_logpdf(X, comps.means, comps.chols, log_weights)
        if self.defensive == 0.0:
            return log_mix
        return np.logaddexp(np.log(self.defensive) + log_q0,
                            np.log1p(-self.defensive) + log_mix)

    def ratios(self, batch):
        """y = phi f / g, a = g_p / g and log g at a batch drawn from this sampler."""
        log_g = self.components.logpdf(batch.X)
        return sampler_ratios(batch.values, batch.log_f, log_g, batch.log_q0,
                              self.alpha, self.defensive)

    def residuals(self, batch, beta):
        """The control-variate summands y - beta a at a batch drawn from this sampler."""
        log_g = self.components.logpdf(batch.X)
        return control_variate_residuals(batch.values, batch.log_f, log_g, batch.log_q0,
                                         self.alpha, self.defensive, beta)

    def sample(self, size, rng, problem):
        """Draw ``size`` points: the defensive share from q_0, the rest per Gaussian."""
        n_initial = rng.binomial(size, self.defensive) if self.defensive > 0 else 0
        comps = self.components
        probs = np.repeat(self.alpha, comps.per_part) * np.exp(comps.log_pi)
        counts = rng.multinomial(size - n_initial, probs / probs.sum())
        blocks = [problem.sample_initial(n_initial, rng)] if n_initial else []
        d = comps.means.shape[1]
        for k in np.flatnonzero(counts):
            z = rng.standard_normal((counts[k], d))
            blocks.append(comps.means[k] + z @ comps.chols[k].T)
        return np.ascontiguousarray(np.vstack(blocks))

    def sample_paired(self, size, normal_rng, uniform_rng):
        r"""Draw ``size`` points, point i from its own random numbers only: a normal
        vector :math:`z_i` (row i of one ``normal_rng`` draw) and a uniform
        :math:`u_i` choosing the component; :math:`X_i = z_i` from :math:`q_0`,
        which must be the standard normal law, else :math:`\mu_c + L_c z_i`. Two
        samplers fed streams in the same state get pairs
        :math:`(X_i, X'_i)` that are independent over i (common random numbers)."""
        comps = self.components
        z = normal_rng.standard_normal((size, comps.means.shape[1]))
        u = uniform_rng.random(size)
        probs = np.concatenate([[self.defensive], (1.0 - self.defensive) * np.repeat(
            self.alpha, comps.per_part) * np.exp(comps.log_pi)])
        edges = np.cumsum(probs) / probs.sum()
        which = np.minimum(np.searchsorted(edges, u, side="right"), probs.size - 1)
        X = z.copy()
        for k in np.unique(which[which > 0]):
            rows = which == k
            X[rows] = comps.means[k - 1] + z[rows] @ comps.chols[k - 1].T
        return X


@dataclass
class Batch:
    """Points with their part values, log f per part and log q_0."""

    X: np.ndarray
    values: np.ndarray
    log_f: np.ndarray
    log_q0: np.ndarray

    def log_abs_target(self):
        """log|phi| + log f per part (-inf where phi is zero); one logarithm per point
        when every column holds the same values (one function shared by the laws)."""
        first = self.values[:, :1]
        shared = np.array_equal(self.values, np.broadcast_to(first, self.values.shape))
        with np.errstate(divide="ignore"):
            return np.log(np.abs(first if shared else self.values)) + self.log_f


class Pool:
    r"""Every point drawn so far and what the recycling weights need, in buffers sized
    for the whole adaptive budget (no copies as batches arrive).

    ``log_q[i, l]`` is the log-density of stage l's sampler at point i, so the
    deterministic mixture :math:`h = \sum_l (N_l/n) q_l` is one log-sum-exp per point;
    ``log_abs_target`` holds :math:`\log|\varphi_p| + \log f_p`, taken once per point.

    Parameters
    ----------
    pilot : Batch
        The pilot sample, drawn from :math:`q_0`.
    capacity : int
        Largest number of points the pool will hold.
    max_stages : int
        Largest number of samplers (pilot included).
    """

    def __init__(self, pilot, capacity, max_stages):
        n, n_parts = pilot.values.shape
        self._X = np.empty((capacity, pilot.X.shape[1]))
        self._values = np.empty((capacity, n_parts))
        self._log_abs_target = np.empty((capacity, n_parts))
        self._log_q0 = np.empty(capacity)
        self._log_q = np.empty((capacity, max_stages))
        self.n = 0
        self.sizes = []
        self.samplers = []
        self._append(pilot, pilot.log_q0[:, None])

    X = property(lambda self: self._X[: self.n])
    values = property(lambda self: self._values[: self.n])
    log_abs_target = property(lambda self: self._log_abs_target[: self.n])
    log_q0 = property(lambda self: self._log_q0[: self.n])

    def log_h(self):
        log_q = self._log_q[: self.n, : len(self.sizes)]
        log_share = np.log(np.asarray(self.sizes, dtype=float) / self.n)
        return logsumexp_rows(np.ascontiguousarray(log_q + log_share))

    def add(self, batch, sampler, new_column):
        """Append a batch drawn from ``sampler``, whose log-density on the old pool and
        the batch is ``new_column``; extend every earlier stage's column to the batch."""
        old_stages = [s.logpdf(batch.X, batch.log_q0) for s in self.samplers]
        self._append(batch, np.column_stack([batch.log_q0, *old_stages]))
        self._log_q[: self.n, len(self.sizes) - 1] = new_column
        self.samplers.append(sampler)

    def _append(self, batch, earlier_stages):
        start, stop = self.n, self.n + batch.X.shape[0]
        self._X[start:stop] = batch.X
        self._values[start:stop] = batch.values
        self._log_abs_target[start:stop] = batch.log_abs_target()
        self._log_q0[start:stop] = batch.log_q0
        self._log_q[start:stop, : earlier_stages.shape[1]] = earlier_stages
        self.n = stop
        self.sizes.append(batch.X.shape[0])
