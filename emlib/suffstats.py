"""The fast path of the EM loop: one chunked pass per iteration over sufficient statistics.

Same numbers as :func:`emlib.e_step` followed by :func:`emlib.m_step`, computed
differently (the tests hold the two together):

1. A Gaussian log-density is a quadratic function of x. With the features
   phi(x) = [1, x_1..x_d, x_a x_b for a <= b], the log of every weighted
   component density is one inner product,

       ln rho_k + ln N(x | mu_k, Sigma_k) = phi(x) . w_k,

   where w_k collects ln rho_k - (d ln 2 pi + ln det Sigma_k + mu_k^T P_k mu_k) / 2,
   the linear coefficients P_k mu_k, and the quadratic ones -P_k / 2
   (P_k = Sigma_k^{-1}; off-diagonal pairs appear once, hence -P_k[a, b]).
   So the E-step for all components at once is ONE matrix product
   Phi (n x p) @ W (p x m): no loop over components.

2. The M-step needs only weighted sums of the same features,
   sum_i E[z_i^(k)] phi(x_i): N_k, the first moments and the second moments.
   That is ONE more product, resp^T (m x n) @ Phi (n x p).

3. Rows are processed in chunks that fit in cache, so memory stays
   O(chunk * (p + m)) beside X, and the n x m responsibility matrix is never
   stored during the iterations.

Second moments suffer cancellation when the data sit far from the origin
(values near 1e6 with unit spread: x^2 ~ 1e12, the variance ~ 1). So every
feature is formed from x - c, where c is the (weighted) mean of the data.
When all covariances are diagonal and the covariance kind needs only
variances, the features shrink to [1, x, x_a^2].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mixture import LOG_2PI, Mixture
from .steps import Moments, check_collapse

# Rows per chunk are chosen so that one chunk's features and log-densities take
# about this many bytes (a typical L2 cache).
CHUNK_BYTES = 1 << 20

# ln of the smallest relative weight a component keeps in a responsibility (see accumulate).
UNDERFLOW_CLAMP = -650.0


@dataclass(frozen=True)
class SufficientStatistics:
    """What one pass over the data leaves for the M-step.

    Attributes
    ----------
    nk : (m,) N_k = sum_i w_i E[z_i^(k)]
    first : (m, d) sum_i w_i E[z_i^(k)] (x_i - c)
    second : (m, q) sum_i w_i E[z_i^(k)] phi2(x_i - c); phi2 holds the products
        x_a x_b for a <= b (q = d(d+1)/2, numpy's triu order) or, when
        ``diagonal``, only the squares x_a^2 (q = d)
    loglik : sum_i w_i ln p(x_i | theta), at the parameters of the E-step
    center : (d,) the centring point c
    diagonal : bool
    log_prior : ln p(theta) at the parameters of the E-step under a prior (MAP-EM), 0 without
    """

    nk: np.ndarray
    first: np.ndarray
    second: np.ndarray
    loglik: float
    center: np.ndarray
    diagonal: bool
    log_prior: float = 0.0

    @property
    def objective(self) -> float:
        """What EM climbs: l(theta), or the log-posterior l(theta) + ln p(theta) under a prior."""
        return self.loglik + self.log_prior

    def __add__(self, other: "SufficientStatistics") -> "SufficientStatistics":
        """The statistics of two sets of samples together (same mixture, centre and layout): sums add up."""
        if self.diagonal != other.diagonal or not np.array_equal(self.center, other.center):
            raise ValueError("only statistics taken around the same centre with the same layout can be added")
        return SufficientStatistics(nk=self.nk + other.nk, first=self.first + other.first,
                                    second=self.second + other.second, loglik=self.loglik + other.loglik,
                                    center=self.center, diagonal=self.diagonal)

    def second_moments(self) -> np.ndarray:
        """T_k = sum_i w_i E[z_i^(k)] (x_i - c)(x_i - c)^T, shape (m, d, d) (diagonal when ``diagonal``)."""
        m, d = self.first.shape
        if self.diagonal:
            return self.second[:, :, None] * np.eye(d)
        out = np.empty((m, d, d))
        ia, ib = np.triu_indices(d)
        out[:, ia, ib] = self.second
        out[:, ib, ia] = self.second
        return out

    def scatter(self, means: np.ndarray) -> np.ndarray:
        """S_k = sum_i w_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T around any means (m, d); shape (m, d, d).

        With F_k the first moments and delta_k = mu_k - c:
        S_k = T_k - F_k delta_k^T - delta_k F_k^T + N_k delta_k delta_k^T.
        """
        delta = means - self.center
        FD = np.einsum("ka,kb->kab", self.first, delta)
        return (self.second_moments() - FD - np.swapaxes(FD, 1, 2)
                + self.nk[:, None, None] * np.einsum("ka,kb->kab", delta, delta))

    def moments(self, keep: np.ndarray | None = None) -> Moments:
        """N_k, the new means mu_k = c + F_k / N_k and the scatter around them, for the components ``keep``.

        Around its own mean the scatter is S_k = T_k - N_k (mu_k - c)(mu_k - c)^T.
        A diagonal that cancellation drove below 0 is set to 0.
        """
        keep = np.arange(self.nk.size) if keep is None else keep
        nk = check_collapse(self.nk[keep])
        mc = self.first[keep] / nk[:, None]                                  # mu_k - c
        T = self.second_moments()[keep]
        scatter = T - nk[:, None, None] * np.einsum("ka,kb->kab", mc, mc)
        diag = np.einsum("kaa->ka", scatter)
        np.maximum(diag, 0.0, out=diag)
        if self.diagonal:
            scatter *= np.eye(mc.shape[1])
        return Moments(nk, self.center + mc, scatter, diagonal_only=self.diagonal)


def _pairs(d: int, diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    if diagonal:
        idx = np.arange(d)
        return idx, idx
    return np.triu_indices(d)


def quadratic_features(Xc: np.ndarray, diagonal: bool, out: np.ndarray | None = None) -> np.ndarray:
    """phi(x) = [1, x, x_a x_b (a <= b)] for every row, shape (n, p).

    Parameters
    ----------
    Xc : array of shape (n, d), already centred
    diagonal : bool, keep only the squares x_a^2 as quadratic terms
    out : optional array of shape (>= n, p) to fill
    """
    n, d = Xc.shape
    q = d if diagonal else d * (d + 1) // 2
    phi = np.empty((n, 1 + d + q)) if out is None else out[:n]
    phi[:, 0] = 1.0
    phi[:, 1:1 + d] = Xc
    if diagonal:
        np.multiply(Xc, Xc, out=phi[:, 1 + d:])
    else:                                   # row a of the upper triangle: x_a * x_{a..d-1}
        col = 1 + d
        for a in range(d):
            np.multiply(Xc[:, a:a + 1], Xc[:, a:], out=phi[:, col:col + d - a])
            col += d - a
    return phi


def _features_T(X_chunk: np.ndarray, center: np.ndarray, diagonal: bool, out: np.ndarray) -> np.ndarray:
    """phi(x - c)^T for a chunk, shape (p, c): the transpose of :func:`quadratic_features`."""
    d = X_chunk.shape[1]
    out[0] = 1.0
    np.subtract(X_chunk.T, center[:, None], out=out[1:1 + d])
    xs = out[1:1 + d]
    if diagonal:
        np.multiply(xs, xs, out=out[1 + d:])
    else:
        col = 1 + d
        for a in range(d):
            np.multiply(xs[a], xs[a:], out=out[col:col + d - a])
            col += d - a
    return out


def log_joint_coefficients(mixture: Mixture, center: np.ndarray, diagonal: bool) -> np.ndarray:
    """W of shape (p, m) with phi(x - c) @ W[:, k] = ln rho_k + ln N(x | mu_k, Sigma_k).

    ``diagonal`` may be True only when every precision matrix is diagonal.
    """
    d = mixture.n_features
    P = mixture.precisions                                   # (m, d, d)
    mc = mixture.means - center                              # (m, d)
    Pm = np.einsum("kab,kb->ka", P, mc)                      # (m, d)
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    const = log_w - 0.5 * (d * LOG_2PI + mixture.log_det + np.einsum("ka,ka->k", mc, Pm))
    ia, ib = _pairs(d, diagonal)
    quad = -P[:, ia, ib] * np.where(ia == ib, 0.5, 1.0)      # (m, q)
    return np.concatenate([const[:, None], Pm, quad], axis=1).T


def is_diagonal(mixture: Mixture) -> bool:
    """True when every covariance matrix is diagonal."""
    cov = mixture.covariances
    d = cov.shape[1]
    return d == 1 or not np.any(cov[:, ~np.eye(d, dtype=bool)])


_BLAS_CONTROLLER = None


def one_blas_thread():
    """A context in which BLAS uses one thread.

    The products of a pass are small (m x p times p x chunk); a second BLAS
    thread only adds synchronisation, and when the other core is busy it
    makes them many times slower. Measured on 2 cores: idle, one thread is as
    fast or faster; loaded, up to 20x faster.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def chunk_rows(p: int, m: int, chunk_size: int | None = None) -> int:
    if chunk_size is not None:
        return max(1, int(chunk_size))
    return max(256, CHUNK_BYTES // (8 * (p + m)))


def accumulate(X: np.ndarray, mixture: Mixture, *, center: np.ndarray, diagonal: bool,
               sample_weight: np.ndarray | None = None, chunk_size: int | None = None) -> SufficientStatistics:
    """One pass: E-step on every chunk, and the sums the M-step needs.

    Parameters
    ----------
    X : array of shape (n, d), validated
    mixture : Mixture with m components, the parameters theta^(t)
    center : (d,) centring point c
    diagonal : use only squared features (requires diagonal covariances)
    sample_weight : (n,) or None

    Returns
    -------
    SufficientStatistics
    """
    n, d = X.shape
    m = mixture.n_components
    diagonal = diagonal and is_diagonal(mixture)        # squares suffice for the E-step and the M-step
    W = log_joint_coefficients(mixture, center, diagonal)  # (p, m)
    WT = np.ascontiguousarray(W.T)                          # (m, p)
    p = W.shape[0]
    rows = min(n, chunk_rows(p, m, chunk_size))
    # Feature-major and component-major layouts: phi^T is (p, c) and the
    # log-densities are (m, c), so every reduction over components (max, sum)
    # runs along long contiguous rows instead of across a tiny last axis.
    phiT_buf = np.empty((p, rows))
    total = np.zeros((m, p))
    with one_blas_thread():
        loglik = _pass(X, WT, center, diagonal, sample_weight, rows, phiT_buf, total)
    return SufficientStatistics(nk=total[:, 0].copy(), first=total[:, 1:1 + d].copy(),
                                second=total[:, 1 + d:].copy(), loglik=loglik,
                                center=np.asarray(center, dtype=float), diagonal=diagonal)


def _pass(X, WT, center, diagonal, sample_weight, rows, phiT_buf, total) -> float:
    """The chunk loop of :func:`accumulate`; adds the sums into ``total`` and returns the log-likelihood.

    No floating-point warnings: a sample far out overflows its squared features
    to inf, and the -inf of a component of weight 0 raises BLAS's "invalid"
    flag (on the padding of its blocks) although the product is right; every
    non-finite ln p(x_i) is caught and named in a clear error, and what follows
    that check is finite.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return sum(_chunk(X, WT, center, diagonal, sample_weight, start, min(start + rows, X.shape[0]),
                          phiT_buf, total) for start in range(0, X.shape[0], rows))


def _chunk(X, WT, center, diagonal, sample_weight, start, stop, phiT_buf, total) -> float:
    """Rows start:stop of :func:`_pass`: adds their sums into ``total``, returns their log-likelihood."""
    phiT = _features_T(X[start:stop], center, diagonal, phiT_buf[:, :stop - start])
    L = WT @ phiT                                       # (m, c): ln rho_k N(x_i | k)
    top = L.max(axis=0)
    L -= top
    # exp of very negative numbers is slow (and its subnormal results slow
    # the next product); a term below e^-650 relative to the largest one
    # changes nothing in double precision, so clamp it there.
    np.maximum(L, UNDERFLOW_CLAMP, out=L)
    np.exp(L, out=L)
    s = L.sum(axis=0)
    log_px = top + np.log(s)                            # ln p(x_i | theta)
    if not np.all(np.isfinite(log_px)):
        bad = start + int(np.flatnonzero(~np.isfinite(log_px))[0])
        raise ValueError(f"the density of sample X[{bad}] is not representable even in log space "
                         "(its values are too large for float64 arithmetic); rescale X")
    if sample_weight is None:
        loglik = float(log_px.sum())
        scale = 1.0 / s
    else:
        wc = sample_weight[start:stop]
        loglik = float(wc @ log_px)
        scale = wc / s
    L *= scale                                          # w_i E[z_i^(k)], (m, c)
    total += L @ phiT.T
    return loglik
