import time, sys
import numpy as np, pandas as pd
from pipelines.publish.disclosure import (apply_disclosure_control, SOURCE1_COUNTS, KELA_COUNTS,
    EURO_BLOCK, INTERNAL_PERSONS_ANY_ROW, STRUCTURAL_GROUPS, CANONICAL_INDICATORS)

def synth(n_months=120, n_regions=19, n_munis=300, seed=0):
    rng = np.random.default_rng(seed)
    regions = [f"MK{i:02d}" for i in range(1, n_regions + 1)]
    munis = [f"KU{c:03d}" for c in sorted(rng.choice(np.arange(1, 1000), n_munis, replace=False))]
    reg_of = rng.integers(0, n_regions, n_munis)
    size = np.exp(rng.normal(1.0, 1.3, n_munis))          # skewed: many tiny municipalities
    inds = list(CANONICAL_INDICATORS) + [INTERNAL_PERSONS_ANY_ROW]
    I = len(inds); ix = {k: i for i, k in enumerate(inds)}
    # municipality x month x sex(m,f) x indicator
    lam = size[:, None, None, None] * rng.uniform(0.3, 3, (1, 1, 1, I))
    v = rng.poisson(np.broadcast_to(lam, (n_munis, n_months, 2, I))).astype(float)
    v[..., ix["structural_unemployed"]] = sum(v[..., ix[g]] for g in STRUCTURAL_GROUPS)
    v[..., ix["tmt_paid_eur"]] = v[..., ix[INTERNAL_PERSONS_ANY_ROW]] * rng.uniform(50, 900, v.shape[:3])
    v[..., ix["tmt_municipal_share_eur"]] = (v[..., ix["tmt_paid_eur"]] * 0.3).round(2)
    v[..., ix["tmt_municipal_share_expected_eur"]] = v[..., ix["tmt_municipal_share_eur"]]
    v[..., ix["tmt_municipal_share_diff_eur"]] = 0.0
    onehot = np.eye(n_regions)[reg_of]                      # munis x regions
    r = np.einsum("mr,mtsi->rtsi", onehot, v)
    c = r.sum(axis=0, keepdims=True)
    allv = np.concatenate([v, r, c])                        # areas x months x 2 x I
    allv = np.concatenate([allv, allv.sum(axis=2, keepdims=True)], axis=2)  # + total
    areas = munis + regions + ["SSS"]
    parent = [regions[k] for k in reg_of] + ["SSS"] * n_regions + [None]
    level = ["municipality"] * n_munis + ["region"] * n_regions + ["country"]
    A = len(areas)
    months = pd.date_range("2010-01-01", periods=n_months, freq="MS")
    ai, ti, si, ii = np.meshgrid(np.arange(A), np.arange(n_months), np.arange(3), np.arange(I), indexing="ij")
    ai, ti, si, ii = ai.ravel(), ti.ravel(), si.ravel(), ii.ravel()
    df = pd.DataFrame({
        "month": months.values[ti],
        "area_code": np.array(areas, dtype=object)[ai],
        "area_level": np.array(level, dtype=object)[ai],
        "parent_area_code": np.array(parent, dtype=object)[ai],
        "sex": np.array(["male", "female", "total"], dtype=object)[si],
        "indicator": np.array(inds, dtype=object)[ii],
        "value": allv.ravel(),
        "status": "ok",
    })
    return df

t0 = time.perf_counter(); df = synth(); t1 = time.perf_counter()
print(f"synthetic input: {len(df):,} rows ({(df.indicator != INTERNAL_PERSONS_ANY_ROW).sum():,} published cells), built in {t1-t0:.1f}s")
for rep in range(2):
    t0 = time.perf_counter(); out = apply_disclosure_control(df); t1 = time.perf_counter()
    print(f"apply_disclosure_control: {t1-t0:.2f}s; suppressed {(out.status=='suppressed').sum():,} of {len(out):,}")
