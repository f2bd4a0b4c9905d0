"""The last section of notebooks/17_working_with_scikit_learn.ipynb: "Swapping GaussianMixtureEM for GaussianMixture".

CELLS is a list of (cell_type, source) pairs, in order, to paste into the
notebook as they are; tests/test_estimator.py::test_the_swap_section_runs runs
the code cells. Each code cell stands alone after the first (its imports).
"""

CELLS = [
    ("markdown", """\
## Swapping `GaussianMixtureEM` for `GaussianMixture`

`emlib.GaussianMixtureEM` is a scikit-learn estimator with the constructor
parameters and fitted attributes of `sklearn.mixture.GaussianMixture`
(`n_components`, `covariance_type`, `tol`, `reg_covar`, `max_iter`, `n_init`,
`init_params`, `weights_init`, `means_init`, `precisions_init`,
`random_state`, `warm_start`; `weights_`, `means_`, `covariances_`,
`precisions_`, `converged_`, `n_iter_`, `lower_bound_`, ...). It fits by
`emlib.em`, the loop of this course. So code written for one runs with the
other: change the class name.

Here is scikit-learn's own model-selection recipe (its example *Gaussian
Mixture Model Selection*): a grid over the number of components and the
covariance type, scored by BIC. `GridSearchCV` maximises a score and a lower
BIC is better, so the scorer returns minus the BIC."""),
    ("code", """\
import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV

import emlib

# The data of scikit-learn's example: a stretched Gaussian and a round one.
r = np.random.RandomState(0)
C = np.array([[0.0, -0.1], [1.7, 0.4]])
X = np.concatenate([r.randn(500, 2) @ C, 0.7 * r.randn(500, 2) + np.array([-4, 1])])


def bic_score(estimator, X):
    \"\"\"Minus the BIC: GridSearchCV keeps the highest score, and the lowest BIC is best.\"\"\"
    return -estimator.bic(X)


grid = {"n_components": range(1, 7), "covariance_type": ["spherical", "tied", "diag", "full"]}
choice = {}
for Estimator in (GaussianMixture, emlib.GaussianMixtureEM):      # the only line that differs
    search = GridSearchCV(Estimator(), grid, scoring=bic_score).fit(X)
    choice[Estimator.__name__] = search.best_params_
    print(f"{Estimator.__name__:>17}: {search.best_params_}")
print("the same choice:", choice["GaussianMixture"] == choice["GaussianMixtureEM"])"""),
    ("markdown", """\
The two classes start differently: by default `GaussianMixture` starts from
k-means (`init_params="kmeans"`) and `GaussianMixtureEM` from emlib's k-means++
start (`init_params="k-means++"`), and their default tolerances differ
(`tol=1e-3` and `1e-6`). Give both the same start and the same settings and
they reach the same fit: every fitted attribute agrees to about 1e-12,
including `n_iter_`, `converged_` and `lower_bound_`, because
`GaussianMixtureEM` stops by scikit-learn's rule. (That rule measures the
log-likelihood in the E-step and stops one M-step after the first two close
values; `emlib.em` stops at those two values.)"""),
    ("code", """\
start = emlib.init_kmeans_pp(X, 2, np.random.default_rng(0))
same = dict(n_components=2, weights_init=start.weights, means_init=start.means,
            precisions_init=start.precisions, tol=1e-3, max_iter=200)
ours = emlib.GaussianMixtureEM(**same).fit(X)
theirs = GaussianMixture(**same).fit(X)
print("n_iter_:", ours.n_iter_, theirs.n_iter_, "  converged_:", ours.converged_, theirs.converged_)
for name in ["weights_", "means_", "covariances_", "precisions_", "lower_bound_"]:
    print(f"{name:>13} largest difference {np.max(np.abs(getattr(ours, name) - getattr(theirs, name))):.1e}")
print(f"  score on X: {ours.score(X):.6f} and {theirs.score(X):.6f}")"""),
    ("markdown", """\
What `GaussianMixtureEM` adds, each from this course:

| addition | what it does |
|---|---|
| `covariance_type="fixed"` | keeps the covariances given by `precisions_init`; fits weights and means only |
| `min_weight=0.05` | drops components whose weight falls below 0.05 after an M-step (the annulus) |
| `fit(X, sample_weight=w)` | sample i counts `w[i]` times (EM on a histogram) |
| `loglik_`, `keep_history=True` → `history_` | the log-likelihood and the parameters of every iteration |
| `mixture_` | the fit as an `emlib.Mixture` |
| `labels_` | the component of each training sample (a clusterer's attribute) |

It works wherever a scikit-learn estimator does: `Pipeline`, `GridSearchCV`,
`cross_val_score`, `clone`, pickling, and pandas DataFrames (`feature_names_in_`)."""),
]
