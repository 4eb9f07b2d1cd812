"""Random-intercept mixed model: statsmodels' fit checked against an independent REML in numpy
(profiled likelihood maximised with scipy), against the one-way ANOVA closed form in the balanced
case, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from jakreg.stats import StatsInputError
from jakreg.stats.mixed import MIN_PATIENTS, random_intercept_model


def _data(n_patients: int = 12, per: int = 5, seed: int = 7):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    pid, t, u, y = [], [], [], []
    for i in range(n_patients):
        b = rng.normal(0, 2.0)
        for k in range(per):
            tt = -4.0 + 3.0 * k + rng.uniform(0, 1)
            under = tt > 0
            pid.append(f"P{i:02d}")
            t.append(tt)
            u.append(under)
            y.append(12 + b - 0.2 * tt - 3.0 * under + rng.normal(0, 1.5))
    return y, t, u, pid


def _reml(y, x, groups):  # type: ignore[no-untyped-def]
    """REML for y = Xb + Zu + e, u ~ N(0, g·s2), e ~ N(0, s2), profiled over s2 and b."""
    n, p = x.shape
    z = (groups[:, None] == np.unique(groups)[None, :]).astype(float)

    def parts(g: float):  # type: ignore[no-untyped-def]
        v = np.eye(n) + g * z @ z.T
        vi = np.linalg.inv(v)
        xtvx = x.T @ vi @ x
        b = np.linalg.solve(xtvx, x.T @ vi @ y)
        r = y - x @ b
        s2 = float(r @ vi @ r) / (n - p)
        ll = -0.5 * ((n - p) * np.log(s2) + np.linalg.slogdet(v)[1] + np.linalg.slogdet(xtvx)[1])
        return ll, b, s2, xtvx

    best = minimize_scalar(lambda lg: -parts(np.exp(lg))[0], bounds=(-12, 6), method="bounded",
                           options={"xatol": 1e-10})  # fmt: skip
    g = float(np.exp(best.x))
    _, b, s2, xtvx = parts(g)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(xtvx)))
    return b, se, g * s2, s2


def test_fixed_effects_and_variances_match_an_independent_reml() -> None:
    y, t, u, pid = _data()
    r = random_intercept_model(y, t, u, pid)
    assert r.computable
    assert r.converged is True
    x = np.column_stack([np.ones(len(y)), t, np.asarray(u, float)])
    groups = np.asarray([int(p[1:]) for p in pid])
    b, se, var_u, s2 = _reml(np.asarray(y), x, groups)
    for i, name in enumerate(("intercept", "time (per month)", "under (vs before)")):
        f = r.effect(name)
        assert f.estimate == pytest.approx(b[i], rel=1e-4, abs=1e-5)
        assert f.std_error == pytest.approx(se[i], rel=1e-3)
        z = norm.ppf(0.975)
        assert f.ci_lower == pytest.approx(f.estimate - z * f.std_error, rel=1e-12)
    assert r.random_intercept_variance == pytest.approx(var_u, rel=1e-3)
    assert r.residual_variance == pytest.approx(s2, rel=1e-4)


def test_balanced_one_way_case_matches_the_anova_closed_form() -> None:
    """With before/under and time balanced the same way in every patient, REML of the variance
    components equals the ANOVA estimators: s2 = MSW of the residuals after the within-patient
    effects, var_u = (MSB - MSW) / m (positive here), from sums of squares written out below."""
    rng = np.random.default_rng(3)
    k, m = 8, 4
    times = np.array([-2.0, -1.0, 1.0, 2.0])
    under = times > 0
    pid, t, u, y = [], [], [], []
    for i in range(k):
        b = rng.normal(0, 3)
        for j in range(m):
            pid.append(str(i))
            t.append(times[j])
            u.append(bool(under[j]))
            y.append(5 + b + 0.5 * times[j] - 2 * under[j] + rng.normal(0, 1))
    r = random_intercept_model(y, t, u, pid)
    ya = np.asarray(y).reshape(k, m)
    # Within patients: remove patient means, fit the within effects of time and under by OLS.
    xw = np.column_stack([times - times.mean(), under - under.mean()])
    yw = ya - ya.mean(axis=1, keepdims=True)
    beta_w = np.linalg.lstsq(np.tile(xw, (k, 1)), yw.ravel(), rcond=None)[0]
    sse_w = float(((yw - xw @ beta_w) ** 2).sum())
    msw = sse_w / (k * (m - 1) - 2)
    msb = m * float(((ya.mean(axis=1) - ya.mean()) ** 2).sum()) / (k - 1)
    assert r.residual_variance == pytest.approx(msw, rel=1e-4)
    assert r.random_intercept_variance == pytest.approx((msb - msw) / m, rel=1e-3)
    assert r.effect("time (per month)").estimate == pytest.approx(beta_w[0], rel=1e-5)
    assert r.effect("under (vs before)").estimate == pytest.approx(beta_w[1], rel=1e-5)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: [x[: 4 * 5] for x in d],
         f"too few patients with scores (4; at least {MIN_PATIENTS} needed)"),
        (lambda d: list(_data(9, 1)),
         "too few scores (9; at least 10 needed)"),
        (lambda d: list(_data(12, 1)), "no patient has more than one score (the patient and "
         "residual variances cannot be told apart)"),
        (lambda d: [d[0], d[1], [True] * len(d[0]), d[3]],
         "every score is 'under' (the before/under difference cannot be estimated)"),
        (lambda d: [d[0], [1.0 if x else -1.0 for x in d[2]], d[2], d[3]],
         "time and before/under carry the same information (design not of full rank)"),
    ],
)  # fmt: skip
def test_refuses_clearly(edit, reason: str) -> None:  # type: ignore[no-untyped-def]
    y, t, u, pid = edit(list(_data()))
    r = random_intercept_model(y, t, u, pid)
    assert not r.computable
    assert r.reason == reason
    assert r.summary() == f"Mixed model not fitted: {reason}."
    assert r.to_dict()["fixed_effects"] == []


def test_malformed_input_is_refused() -> None:
    with pytest.raises(StatsInputError, match="same length"):
        random_intercept_model([1.0], [0.0, 1.0], [True], ["a"])
    with pytest.raises(StatsInputError, match="finite"):
        random_intercept_model([float("nan")], [0.0], [True], ["a"])


@pytest.mark.parametrize("between_sd", [2.0, 0.0])
def test_the_start_is_the_reml_optimum(between_sd: float) -> None:
    """The closed-form REML start lands on the optimum of the independent dense REML above, with
    patient variance and at the boundary (none in the data), and statsmodels, started there, stays:
    with patient variance, where statsmodels from its own default start converges too, the start
    equals that optimum. (At the boundary statsmodels from its default start ends at an intercept
    of 0 with an infinite log-likelihood, which is why the start matters there.)"""
    from statsmodels.regression.mixed_linear_model import MixedLM

    from jakreg.stats.mixed import _reml_start

    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 9, 60)
    groups = np.repeat(np.arange(60), sizes)
    t = rng.uniform(-6, 24, groups.size)
    u = (t > 0).astype(float)
    y = 8 + rng.normal(0, between_sd, 60)[groups] - 0.1 * t - 2 * u + rng.normal(0, 1, groups.size)
    x = np.column_stack([np.ones(groups.size), t, u])
    start = _reml_start(y, x, groups)
    b, se, var_u, s2 = _reml(y, x, groups)
    assert start.fe_params == pytest.approx(b, rel=1e-5, abs=1e-6)
    # (the dense REML searches log g down to -12 only: at the boundary both sit at their bound)
    assert start.cov_re[0, 0] * s2 == pytest.approx(var_u, rel=1e-3, abs=1e-5)
    r = random_intercept_model(list(y), list(t), [bool(v) for v in u], [str(g) for g in groups])
    assert r.converged is True
    assert [f.estimate for f in r.fixed] == pytest.approx(b, rel=1e-5, abs=1e-6)
    assert [f.std_error for f in r.fixed] == pytest.approx(se, rel=1e-3 if between_sd else 2e-2)
    assert r.residual_variance == pytest.approx(s2, rel=1e-4)
    if between_sd:
        fit = MixedLM(y, x, groups).fit(reml=True, method=["lbfgs"])
        assert fit.converged
        assert start.fe_params == pytest.approx(np.asarray(fit.fe_params), rel=1e-4)
        assert start.cov_re[0, 0] == pytest.approx(float(fit.cov_re[0, 0]) / fit.scale, rel=1e-3)
        assert r.log_likelihood == pytest.approx(float(fit.llf), abs=1e-6)
