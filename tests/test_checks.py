"""emlib.course.checks: every check accepts its reference, rejects a stub as "not implemented", and says precisely what is wrong."""

import json
import re
import sys

import numpy as np
import pytest

import emlib
import emlib.course.checks as checks
from emlib.course.checks import _feedback
from emlib.course.checks._feedback import Case, Failure, match_components

REGISTRY = checks.registry()


def stub_for(task):
    def stub(*args):
        raise NotImplementedError(f"{task} is not implemented yet: write its body here")
    return stub


# --- every check --------------------------------------------------------------------------------

@pytest.mark.parametrize("task", sorted(REGISTRY))
def test_every_check_passes_its_reference(task):
    result = REGISTRY[task].evaluate(_feedback.spec(task).reference)
    assert result.passed, result.message


@pytest.mark.parametrize("task", sorted(REGISTRY))
def test_every_check_reports_a_stub_as_not_implemented(task):
    result = REGISTRY[task].evaluate(stub_for(task))
    assert not result.passed
    assert result.kind == _feedback.NOT_IMPLEMENTED
    assert "not implemented yet" in result.message and task in result.message


def test_every_check_is_exported_under_its_task_name():
    for task, chk in REGISTRY.items():
        assert getattr(checks, f"check_{task}") is chk
        assert chk.task == task


def test_a_stub_of_a_helper_is_named_in_the_message():
    def map_classify(X, weights, means, covariances):
        raise NotImplementedError("gaussian_logpdf is not implemented yet: write its body here")
    result = checks.check_map_classify.evaluate(map_classify)
    assert result.kind == _feedback.NOT_IMPLEMENTED
    assert "calls gaussian_logpdf" in result.message


# --- reporting ----------------------------------------------------------------------------------

def test_a_passing_check_prints_a_short_confirmation(capsys):
    checks.check_update_weights(lambda resp: resp.mean(axis=0))
    out = capsys.readouterr().out
    assert out.startswith("✔ update_weights:") and out.count("\n") == 1


def test_a_failing_check_prints_the_problem_and_does_not_raise(capsys):
    checks.check_update_weights(lambda resp: resp.sum(axis=0))
    out = capsys.readouterr().out
    assert out.startswith("✘ update_weights:")
    assert "divide by n" in out


def test_verdicts_are_recorded_in_the_log_file_named_by_the_environment(tmp_path, monkeypatch, capsys):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(_feedback.LOG_ENV, str(log))

    def update_weights(resp):
        return resp.mean(axis=0)
    checks.check_update_weights(update_weights)
    checks.check_update_means(stub_for("update_means"))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["task"], e["passed"], e["kind"]) for e in entries] == [
        ("update_weights", True, ""), ("update_means", False, "not implemented")]
    assert entries[0]["function"] == "update_weights" and entries[0]["source"] == "notebook"


def test_nothing_is_recorded_without_the_environment_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(_feedback.LOG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    checks.check_update_weights(lambda resp: resp.mean(axis=0))
    assert list(tmp_path.iterdir()) == []


# --- what is wrong, precisely -------------------------------------------------------------------

def test_wrong_shape_gives_expected_and_got():
    result = checks.check_e_step.evaluate(lambda X, mixture: (emlib.e_step(X, mixture)[0].T, 0.0))
    assert "wrong shape for resp: expected (3, 2) = (n, m), got (2, 3)" in result.message
    assert "transposed" in result.message


def test_rows_that_do_not_sum_to_one_are_reported():
    def e_step(X, mixture):
        return np.exp(mixture.weighted_logpdf(X)), 0.0          # forgot to normalise
    result = checks.check_e_step.evaluate(e_step)
    assert "must sum to one" in result.message and re.search(r"row \d+ sums to 0\.\d+", result.message)


def test_a_covariance_that_is_not_symmetric_is_reported():
    def update_covariances(X, resp, means):
        cov = emlib.update_covariances(X, resp, means, reg=0.0)
        if cov.shape[-1] > 1:
            cov[:, 0, 1] += 0.5
        return cov
    result = checks.check_update_covariances.evaluate(update_covariances)
    assert "is not symmetric" in result.message


def test_values_off_show_the_smallest_failing_input_with_expected_and_got():
    result = checks.check_update_means.evaluate(lambda X, resp: resp.T @ X)   # forgot to divide by N_k
    assert "values are off" in result.message and "expected" in result.message and "got" in result.message
    assert "input (three 1-D samples, two components)" in result.message     # the first, smallest case
    assert "divide by N_k" in result.message


def test_a_naive_e_step_is_reported_as_underflow():
    def e_step(X, mixture):
        with np.errstate(all="ignore"):
            p = np.exp(mixture.weighted_logpdf(X))
            return p / p.sum(axis=1, keepdims=True), float(np.log(p.sum(axis=1)).sum())
    result = checks.check_e_step.evaluate(e_step)
    assert "NaN" in result.message and "underflow" in result.message and "log space" in result.message
    assert "far from every mean" in result.message


def test_a_naive_logsumexp_is_reported_as_overflow():
    def logsumexp_rows(a):
        with np.errstate(all="ignore"):
            return np.log(np.exp(a).sum(axis=1))
    result = checks.check_logsumexp_rows.evaluate(logsumexp_rows)
    assert "overflows" in result.message and "maximum" in result.message


def test_an_exception_in_student_code_names_its_line_and_the_input():
    def update_weights(resp):
        return resp[10]
    result = checks.check_update_weights.evaluate(update_weights)
    assert "update_weights raised IndexError" in result.message
    assert "return resp[10]" in result.message and "input (" in result.message


def test_sys_exit_in_student_code_is_a_failure_not_an_exit():
    def update_weights(resp):
        sys.exit(1)
    result = checks.check_update_weights.evaluate(update_weights)
    assert not result.passed and "SystemExit" in result.message


def test_passing_emlibs_own_answer_is_refused():
    result = checks.check_e_step.evaluate(emlib.e_step)
    assert not result.passed and "which is the answer" in result.message


def test_passing_the_result_instead_of_the_function_is_explained():
    result = checks.check_update_weights.evaluate(np.ones(3))
    assert "instead of a function" in result.message and "check_update_weights(update_weights)" in result.message


def test_a_function_that_writes_into_its_input_cannot_spoil_the_next_case():
    def update_weights(resp):
        out = resp.mean(axis=0)
        resp[:] = 0.0
        return out
    assert checks.check_update_weights.evaluate(update_weights).passed


def test_a_bug_in_a_check_is_not_blamed_on_the_student():
    @_feedback.check("zz_buggy_task", reference=lambda: None)
    def check_zz_buggy_task(fn):
        raise ZeroDivisionError("oops")
    try:
        result = check_zz_buggy_task.evaluate(lambda: None)
        assert result.kind == _feedback.CHECK_ERROR and "the check itself could not finish" in result.message
    finally:
        _feedback._REGISTRY.pop("zz_buggy_task")


def test_common_mistakes_get_specific_hints():
    def loglik_mean(X, weights, means, covariances):
        return emlib.Mixture(weights, means, covariances).loglik(X) / len(X)
    assert "mean over the samples" in checks.check_mixture_loglik.evaluate(loglik_mean).message

    def fit_unbiased(X, labels):
        w, mu, _ = _feedback.spec('fit_clustering').reference(X, labels)
        cov = np.array([np.cov(X[labels == k].T).reshape(X.shape[1], X.shape[1]) for k in range(len(w))])
        return w, mu, cov
    assert "n_k - 1" in checks.check_fit_clustering.evaluate(fit_unbiased).message

    def aic_instead(X, mixture):
        return emlib.aic(X, mixture)
    assert "That is AIC" in checks.check_bic_score.evaluate(aic_instead).message

    def no_division(loglik_old, loglik_new, n, tol):
        return abs(loglik_new - loglik_old) < tol
    assert "Divide the change by n" in checks.check_has_converged.evaluate(no_division).message


def test_a_sampler_that_ignores_its_rng_is_caught():
    def sample_mixture(weights, means, covariances, n, rng):
        return _feedback.spec('sample_mixture').reference(weights, means, covariances, n, np.random.default_rng())
    result = checks.check_sample_mixture.evaluate(sample_mixture)
    assert "rng" in result.message and not result.passed


def test_a_sampler_that_multiplies_by_sigma_is_told_to_use_a_square_root():
    def sample_mixture(weights, means, covariances, n, rng):
        z = rng.choice(len(weights), size=n, p=weights)
        e = rng.standard_normal((n, means.shape[1]))
        return means[z] + np.einsum("nij,nj->ni", covariances[z], e), z
    result = checks.check_sample_mixture.evaluate(sample_mixture)
    assert "wrong spread" in result.message


# --- component order never matters ----------------------------------------------------------------

def test_match_components_recovers_a_permutation(rng):
    means = rng.normal(size=(5, 3))
    perm = rng.permutation(5)
    assert np.array_equal(means[perm][match_components(means, means[perm])], means)


def test_components_in_another_order_pass():
    def fit_clustering(X, labels):
        w, mu, cov = _feedback.spec('fit_clustering').reference(X, labels)
        order = np.arange(len(w))[::-1]
        return w[order], mu[order], cov[order]
    assert checks.check_fit_clustering.evaluate(fit_clustering).passed

    def kmeans(X, init_means, max_iter):
        means, labels = _feedback.spec('kmeans').reference(X, init_means, max_iter)
        order = np.array([2, 0, 1])
        return means[order], np.argsort(order)[labels]
    assert checks.check_kmeans.evaluate(kmeans).passed

    def trim_mixture(mixture, min_weight):
        kept = emlib.trim(mixture, min_weight)
        order = np.arange(kept.n_components)[::-1]
        return emlib.Mixture(kept.weights[order], kept.means[order], kept.covariances[order])
    assert checks.check_trim_mixture.evaluate(trim_mixture).passed


# --- the framework ------------------------------------------------------------------------------

def test_expect_close_reports_the_first_wrong_entry():
    with pytest.raises(Failure, match=r"first wrong entry at index \(1, 0\): expected 3, got 4"):
        _feedback.expect_close(np.array([[1.0, 2.0], [4.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]), "A")


def test_case_describes_its_inputs():
    text = Case("tiny", X=np.array([[1.0], [2.0]]), mixture=emlib.Mixture.univariate([1.0], [0.0], [2.0])).describe()
    assert text.startswith("input (tiny):") and "X = [[1.]," in text and "variances = [2.]" in text


def test_two_checks_for_one_task_in_different_modules_are_refused():
    chk = REGISTRY["e_step"]
    with pytest.raises(ValueError, match="two checks for task 'e_step'"):
        def body(fn):
            return None
        body.__module__ = "emlib.course.checks.somewhere_else"
        _feedback.check("e_step", reference=_feedback.spec("e_step").reference)(body)
    assert checks.registry()["e_step"] is chk


def test_a_new_topic_module_is_discovered_without_editing_the_package(tmp_path, monkeypatch):
    (tmp_path / "zz_demo_topic.py").write_text(
        "from ._feedback import Case, call, check, expect_close\n"
        "__all__ = ['check_zz_double']\n"
        "@check('zz_double', reference=lambda x: 2 * x)\n"
        "def check_zz_double(fn):\n"
        "    case = Case('one number', x=3.0)\n"
        "    expect_close(call(fn, case), 6.0, 'the result', case=case)\n")
    monkeypatch.setattr(checks, "__path__", list(checks.__path__) + [str(tmp_path)])
    monkeypatch.setattr(checks, "__all__", list(checks.__all__))
    try:
        checks._import_topics()
        assert checks.check_zz_double.evaluate(lambda x: x + x).passed
        assert "check_zz_double" in checks.__all__ and "zz_double" in checks.registry()
    finally:
        _feedback._REGISTRY.pop("zz_double", None)
        sys.modules.pop("emlib.course.checks.zz_demo_topic", None)
        if hasattr(checks, "check_zz_double"):
            delattr(checks, "check_zz_double")
        if hasattr(checks, "zz_demo_topic"):
            delattr(checks, "zz_demo_topic")


# --- hints for the common mistakes that used to get only "values are off" ------------------------

def test_a_covariance_divided_by_n_k_minus_one_is_named():
    def update_covariances(X, resp, means):
        nk = resp.sum(axis=0)
        diff = X[:, None, :] - means[None]
        return np.einsum("nk,nka,nkb->kab", resp, diff, diff) / (nk - 1)[:, None, None]
    result = checks.check_update_covariances.evaluate(update_covariances)
    assert not result.passed and "You divided by N_k - 1" in result.message


def test_np_cov_with_its_default_is_named():
    def update_covariances(X, resp, means):
        return np.stack([np.cov(X.T, aweights=resp[:, k]).reshape(X.shape[1], X.shape[1])
                         for k in range(resp.shape[1])])
    result = checks.check_update_covariances.evaluate(update_covariances)
    assert not result.passed and "np.cov" in result.message and "bias=True" in result.message


def test_an_e_step_without_the_weights_is_named():
    def e_step(X, mixture):
        a = mixture.component_logpdf(X)                       # rho_k left out
        top = a.max(axis=1, keepdims=True)
        log_px = top[:, 0] + np.log(np.exp(a - top).sum(axis=1))
        return np.exp(a - log_px[:, None]), float(log_px.sum())
    result = checks.check_e_step.evaluate(e_step)
    assert not result.passed and "The weights rho_k are missing" in result.message


def test_a_soft_assignment_with_the_wrong_sign_is_named_without_giving_the_answer():
    def soft_assign(X, means, sigma):
        a = ((X[:, None, :] - means[None]) ** 2).sum(-1) / (2 * sigma ** 2)     # + instead of -
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    result = checks.check_soft_assign.evaluate(soft_assign)
    assert not result.passed and "sign of the exponent is flipped" in result.message
    assert "def soft_assign" not in result.message and "a.max" not in result.message


def test_every_hint_also_fires_on_the_hidden_grading_cases():
    rng = np.random.default_rng(5)

    def update_covariances(X, resp, means):
        nk = resp.sum(axis=0)
        diff = X[:, None, :] - means[None]
        return np.einsum("nk,nka,nkb->kab", resp, diff, diff) / (nk - 1)[:, None, None]
    hidden = _feedback.spec("update_covariances").hidden(rng)
    assert "N_k - 1" in checks.check_update_covariances.evaluate(update_covariances, hidden).message


def test_hints_are_chosen_by_a_cases_tags_never_by_words_in_its_label():
    import inspect
    from emlib.course.checks import _feedback, estep, likelihood, missing

    assert not _feedback.Case("a point far from every mean", X=1).probes("far")
    assert _feedback.Case("anything", tags=("far",), X=1).probes("far")
    for module in (estep, likelihood, missing):
        assert "in case.label" not in inspect.getsource(module)
    far = [c for c in estep.E_CASES if "far" in c.label]
    assert far and all(c.probes("far") for c in far)
