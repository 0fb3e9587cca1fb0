"""The cantilever beam, its laws, and the Ishigami function.

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
"""


import numpy as np

from statlogit._validation import check_scalar, resolve_rng


def cantilever_beam(X):
    r"""Tip displacement of a cantilever beam (m), the aISCV test model.

    .. math:: D = \frac{4L^3}{E\,10^9\,w\,t}
              \sqrt{\Bigl(\frac{F_X}{w^2}\Bigr)^2 + \Bigl(\frac{F_Y}{t^2}\Bigr)^2}

    Parameters
    ----------
    X : array-like of shape (n, 6)
        Columns :math:`F_X, F_Y` (loads), E (Young's modulus in GPa), w, t, L.

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    X = np.asarray(X, dtype=float)
    fx, fy, young, w, t, length = X.T
    return (4.0 * length**3 / (young * 1e9 * w * t)
            * np.sqrt((fx / w**2) ** 2 + (fy / t**2) ** 2))


def lognormal_law(mean, cov):
    """Frozen scipy lognormal with the given mean and coefficient of variation."""
    from scipy import stats

    sigma2 = np.log1p(cov**2)
    return stats.lognorm(np.sqrt(sigma2), scale=mean * np.exp(-0.5 * sigma2))


CANTILEVER_BEAM_BOX = np.array([[525, 575], [425, 475], [175, 225], [0.06, 0.07],
                                [0.09, 0.1], [4, 5], [-0.6, 0], [0, 0.5], [0, 0.5]])


def cantilever_beam_law(params):
    r"""The beam input law of a parameter vector :math:`\delta \in \mathbb R^9`.

    :math:`F_X, F_Y, E` lognormal with means :math:`\delta_{1..3}` and CoVs 0.08, 0.08,
    0.06; :math:`w, t, L` normal with means :math:`\delta_{4..6}` and CoV 0.1, with
    correlations :math:`\rho(w,t)=\delta_7`, :math:`\rho(w,L)=\delta_8`,
    :math:`\rho(t,L)=\delta_9` (a Gaussian copula).

    Raises
    ------
    ValueError
        If the correlations do not form a positive-definite matrix.
    """
    from scipy import stats

    from statlogit.expectations.laws import GaussianCopula

    p = np.asarray(params, dtype=float)
    marginals = [lognormal_law(p[0], 0.08), lognormal_law(p[1], 0.08),
                 lognormal_law(p[2], 0.06)]
    marginals += [stats.norm(p[k], 0.1 * p[k]) for k in (3, 4, 5)]
    corr = np.eye(6)
    for (r, s), rho in zip([(3, 4), (3, 5), (4, 5)], p[6:9], strict=True):
        corr[r, s] = corr[s, r] = rho
    return GaussianCopula(marginals, corr)


def make_cantilever_beam_laws(n_laws=100, *, random_state=0):
    r"""The aISCV family of beam input laws: parameter vectors from a Latin hypercube.

    :math:`\delta` is drawn by Latin hypercube sampling in
    :data:`CANTILEVER_BEAM_BOX`; a vector whose correlations are not positive
    definite gets its three correlations redrawn uniformly in the box until they are.

    Returns
    -------
    laws : list of GaussianCopula
    params : numpy.ndarray of shape (n_laws, 9)
    """
    from scipy.stats import qmc

    n_laws = check_scalar(n_laws, name="n_laws", lower=1, integer=True)
    rng = resolve_rng(random_state)
    low, high = CANTILEVER_BEAM_BOX.T
    params = low + (high - low) * qmc.LatinHypercube(d=9, rng=rng).random(n_laws)
    laws = []
    for row in params:
        while True:
            try:
                laws.append(cantilever_beam_law(row))
                break
            except ValueError:
                row[6:] = rng.uniform(low[6:], high[6:])
    return laws, params


def cantilever_beam_nominal_marginals():
    """Independent nominal beam inputs of the Sobol' case (F_X, F_Y, E, w, t, L)."""
    from scipy import stats

    return [lognormal_law(556.8, 0.08), lognormal_law(453.6, 0.08),
            lognormal_law(200.0, 0.06), stats.norm(0.062, 0.0062),
            stats.norm(0.0987, 0.00987), stats.norm(4.29, 0.429)]


CANTILEVER_BEAM_SOBOL_PAPER = np.array([0.0240, 0.0006, 0.0166, 0.4276, 0.0732, 0.4021])


def ishigami(X, a=7.0, b=0.1):
    r"""Ishigami function :math:`\sin x_1 + a\sin^2 x_2 + b x_3^4 \sin x_1`.

    Inputs are independent uniform on :math:`[-\pi, \pi]`.
    """
    X = np.asarray(X, dtype=float)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_first_order(a=7.0, b=0.1):
    """Exact first-order Sobol' indices of :func:`ishigami`."""
    variance = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    return np.array([v1, a**2 / 8, 0.0]) / variance


def ishigami_indices(a=7.0, b=0.1):
    r"""Exact first-, total- and second-order Sobol' indices of :func:`ishigami`.

    With :math:`V = a^2/8 + b\pi^4/5 + b^2\pi^8/18 + 1/2`,
    :math:`V_1 = (1 + b\pi^4/5)^2/2`, :math:`V_2 = a^2/8` and
    :math:`V_{13} = b^2\pi^8(1/18 - 1/50)` (the only interaction).

    Returns
    -------
    first, total : ndarray of shape (3,)
    second : ndarray of shape (3,)
        Pairs (1, 2), (1, 3), (2, 3).
    """
    variance = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1, v2 = 0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    return (np.array([v1, v2, 0.0]) / variance, np.array([v1 + v13, v2, v13]) / variance,
            np.array([0.0, v13, 0.0]) / variance)


SOBOL_G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def sobol_g(X, a=SOBOL_G_A):
    r"""Sobol' G function :math:`\prod_r (|4x_r - 2| + a_r)/(1 + a_r)`, inputs
    independent uniform on [0, 1] (d = len(a))."""
    a = np.asarray(a, dtype=float)
    X = np.asarray(X, dtype=float)
    return np.prod((np.abs(4 * X - 2) + a) / (1 + a), axis=1)


def sobol_g_indices(a=SOBOL_G_A):
    r"""Exact Sobol' indices of :func:`sobol_g`: with :math:`V_r = 1/(3(1+a_r)^2)` and
    :math:`V = \prod_r(1+V_r) - 1`, :math:`S_r = V_r/V`,
    :math:`S^T_r = V_r\prod_{s\ne r}(1+V_s)/V`, :math:`S_{rs} = V_rV_s/V`.

    Returns
    -------
    first, total : ndarray of shape (d,)
    second : ndarray of shape (d(d-1)/2,)
        Pairs r < s in ``numpy.triu_indices(d, 1)`` order.
    """
    v = 1 / (3 * (1 + np.asarray(a, dtype=float)) ** 2)
    variance = np.prod(1 + v) - 1
    r, s = np.triu_indices(v.shape[0], 1)
    return (v / variance, v * np.prod(1 + v) / (1 + v) / variance,
            v[r] * v[s] / variance)
