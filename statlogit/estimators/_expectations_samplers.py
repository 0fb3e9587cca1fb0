"""Gaussian (mixture) components, the mixture sampler and the recycled sample pool."""

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from statlogit.kernels.common import logsumexp_rows
from statlogit.kernels.expectations import gaussian_logpdf


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
        logp = gaussian_logpdf(X, self.means, self.chols) + self.log_pi
        if self.per_part == 1:
            return logp
        return special.logsumexp(logp.reshape(X.shape[0], self.n_parts, -1), axis=2)


@dataclass
class Sampler:
    r""":math:`g = \varepsilon q_0 + (1-\varepsilon)\sum_p \alpha_p g_p`."""

    components: Components
    alpha: np.ndarray
    defensive: float

    def log_density(self, log_g, log_q0):
        """log g from the parts' log-densities (n, P) and log q_0 (n,)."""
        log_mix = logsumexp_rows(log_g + np.log(self.alpha))
        if self.defensive == 0.0:
            return log_mix
        return np.logaddexp(np.log(self.defensive) + log_q0,
                            np.log1p(-self.defensive) + log_mix)

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


@dataclass
class Pool:
    r"""Every point drawn so far and what the recycling weights need.

    ``log_q[i, l]`` is the log-density of stage l's sampler at point i, so the
    deterministic mixture :math:`h = \sum_l (N_l/n) q_l` is one log-sum-exp per point.
    """

    X: np.ndarray
    values: np.ndarray
    log_f: np.ndarray
    log_q0: np.ndarray
    log_q: np.ndarray
    sizes: list = field(default_factory=list)
    samplers: list = field(default_factory=list)

    @property
    def n(self):
        return self.X.shape[0]

    def log_h(self):
        log_share = np.log(np.asarray(self.sizes, dtype=float) / self.n)
        return logsumexp_rows(np.ascontiguousarray(self.log_q + log_share))

    def add(self, batch, sampler, log_g_pool, log_g_batch):
        """Append a batch drawn from ``sampler``; extend every stage's density column."""
        old_stages = [s.log_density(s.components.logpdf(batch.X), batch.log_q0)
                      for s in self.samplers]
        new_column = np.concatenate([sampler.log_density(log_g_pool, self.log_q0),
                                     sampler.log_density(log_g_batch, batch.log_q0)])
        batch_rows = np.column_stack([batch.log_q0, *old_stages])
        self.log_q = np.column_stack([np.vstack([self.log_q, batch_rows]), new_column])
        self.X = np.vstack([self.X, batch.X])
        self.values = np.vstack([self.values, batch.values])
        self.log_f = np.vstack([self.log_f, batch.log_f])
        self.log_q0 = np.concatenate([self.log_q0, batch.log_q0])
        self.sizes.append(batch.X.shape[0])
        self.samplers.append(sampler)


@dataclass
class Batch:
    """Points with their part values, log f per part and log q_0."""

    X: np.ndarray
    values: np.ndarray
    log_f: np.ndarray
    log_q0: np.ndarray
