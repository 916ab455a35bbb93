"""Builds the inspector's scikit-learn / XGBoost allowlist from real artifacts.

    /usr/bin/python3 lib/inspect/tools/gen-allowlist.py OUT_DIR [--fixtures] && npx biome format --write lib/inspect/allowlist-generated.ts lib/inspect/testdata/generated

Run with Debian's python3-sklearn, python3-xgboost, python3-joblib, python3-numpy (and python3-lz4).
It fits every estimator that sklearn.utils.all_estimators() lists on a small binary classification
set (default parameters where they fit), common churn pipelines, ColumnTransformer variants and
search CVs, and XGBoost's XGBClassifier; wraps each in the registry's payload ({"model", "cat_cols",
"num_cols"}) and dumps it with joblib in several ways (protocols 2-5, zlib, lz4, gzip, bz2, xz).
Every (module, name) the dumps import is recorded while joblib loads them back (these are our own
freshly made files: loading them is how Python itself tells us what they import).

Writes:
  OUT_DIR/models/*.joblib          every dump
  OUT_DIR/models.json              per dump: the model, how it was dumped, its globals
  lib/inspect/allowlist-generated.ts   the allowlist data with provenance (committed)
  lib/inspect/testdata/generated/  with --fixtures: a compact set of small dumps that together import
                                   every distinct global, and their expected globals (committed)
"""
import builtins
import contextlib
import gzip
import hashlib
import inspect as pyinspect
import io
import json
import os
import pickle
import platform
import sys
import warnings

import joblib
import joblib.numpy_pickle as jnp
import numpy as np
import scipy
import sklearn
import xgboost
from sklearn.base import ClusterMixin, RegressorMixin
from sklearn.utils import all_estimators

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
INSPECT = os.path.normpath(os.path.join(HERE, ".."))

# --- recording what a dump imports -------------------------------------------------------------

SEEN = set()


class RecordingUnpickler(pickle._Unpickler):
    def find_class(self, module, name):
        SEEN.add((module, name))
        return super().find_class(module, name)


class RecordingNumpyUnpickler(jnp.NumpyUnpickler):
    def find_class(self, module, name):
        SEEN.add((module, name))
        return super().find_class(module, name)


class _PickleShim:
    """joblib reads object arrays with a plain pickle.load: route it through the recorder too."""

    def __getattr__(self, attr):
        return getattr(pickle, attr)

    @staticmethod
    def load(f, **kw):
        return RecordingUnpickler(f, **kw).load()


jnp.pickle = _PickleShim()
jnp.NumpyUnpickler = RecordingNumpyUnpickler


def globals_of(path):
    SEEN.clear()
    joblib.load(path)
    return sorted(f"{m}.{n}" for m, n in SEEN), sorted(SEEN)


# --- data ---------------------------------------------------------------------------------------

RNG = np.random.RandomState(0)
N = 60
X = np.abs(RNG.normal(size=(N, 4))) + 0.1
Y = (X[:, 0] + 0.3 * RNG.normal(size=N) > X[:, 0].mean()).astype(int)
Y2 = np.column_stack([Y, 1 - Y])
CAT = np.array([["a", "b", "c"][i % 3] for i in range(N)], dtype=object)
XMIX = np.column_stack([CAT, X[:, :3]]).astype(object)
DOCS = [f"churn {'high' if y else 'low'} plan {i % 5} account" for i, y in enumerate(Y)]
DICTS = [{"plan": f"p{i % 3}", "usage": float(x)} for i, x in enumerate(X[:, 0])]


def classifier_or_regressor(cls):
    from sklearn.linear_model import LogisticRegression, Ridge

    return Ridge() if issubclass(cls, RegressorMixin) else LogisticRegression()


# Defaults that cannot fit 60 x 4 data.
OVERRIDES = {
    "SelectKBest": {"k": 2},
    "GaussianRandomProjection": {"n_components": 2},
    "SparseRandomProjection": {"n_components": 2},
}


def required_params(cls):
    from sklearn.decomposition import PCA
    from sklearn.feature_selection import SelectKBest
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    regress = issubclass(cls, RegressorMixin)
    tree = DecisionTreeRegressor(max_depth=2) if regress else DecisionTreeClassifier(max_depth=2)
    out = {}
    for p in pyinspect.signature(cls).parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.name in ("estimator", "base_estimator"):
            out[p.name] = classifier_or_regressor(cls)
        elif p.name == "estimators":
            out[p.name] = [("lin", classifier_or_regressor(cls)), ("tree", tree)]
        elif p.name == "steps":
            out[p.name] = [("scale", StandardScaler()), ("model", classifier_or_regressor(cls))]
        elif p.name == "transformers":
            out[p.name] = [("num", StandardScaler(), [0, 1])]
        elif p.name == "transformer_list":
            out[p.name] = [("pca", PCA(n_components=2)), ("best", SelectKBest(k=2))]
        elif p.name in ("param_grid", "param_distributions"):
            out[p.name] = {"C": [0.1, 1.0]}
        elif p.name == "dictionary":
            out[p.name] = X[:2].T.copy().T
        else:
            raise TypeError(f"no value for required parameter {p.name}")
    # Five trees import what a hundred do, in a twentieth of the bytes (the committed fixtures stay small).
    if "n_estimators" in pyinspect.signature(cls).parameters:
        out["n_estimators"] = 5
    return {**out, **OVERRIDES.get(cls.__name__, {})}


def fit(name, est):
    """Fits with the first input shape the estimator accepts."""
    special = {
        "CountVectorizer": [(DOCS, None)],
        "TfidfVectorizer": [(DOCS, None)],
        "HashingVectorizer": [(DOCS, None)],
        "DictVectorizer": [(DICTS, None)],
        "FeatureHasher": [(DICTS, None)],
        "LabelEncoder": [(Y, "y-only")],
        "LabelBinarizer": [(Y, "y-only")],
        "MultiLabelBinarizer": [([[1, 2], [3]], "y-only")],
        "IsotonicRegression": [(X[:, 0], Y)],
        "PatchExtractor": [(RNG.rand(2, 8, 8), None)],
        "OneHotEncoder": [(XMIX[:, :1], None)],
        "OrdinalEncoder": [(XMIX[:, :1], None)],
        "GammaRegressor": [(X, Y + 1.0)],
        "KernelCenterer": [(X @ X.T, None)],
    }
    attempts = special.get(name, [(X, Y), (X, Y2), (X, None)])
    last = None
    for data, target in attempts:
        try:
            if target == "y-only":
                est.fit(data)
            elif target is None:
                est.fit(data)
            else:
                est.fit(data, target)
            return est
        except Exception as error:  # noqa: BLE001 - next shape
            last = error
    raise last


def churn_models():
    """Pipelines and ColumnTransformer variants teams really ship."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

    def ct(**kw):
        base = [("cat", OneHotEncoder(handle_unknown="ignore"), [0]), ("num", StandardScaler(), [1, 2])]
        return ColumnTransformer(base + kw.pop("extra", []), **kw)

    def pipe(pre, model=None):
        return Pipeline([("pre", pre), ("model", LogisticRegression() if model is None else model)])

    yield "churn_logreg", pipe(ct()), XMIX, Y
    yield "churn_rf", pipe(ct(), RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0)), XMIX, Y
    yield "churn_gb", pipe(ct(), GradientBoostingClassifier(n_estimators=5, max_depth=2)), XMIX, Y
    yield "churn_hgb", pipe(ct(), HistGradientBoostingClassifier(max_iter=5)), XMIX, Y
    yield "churn_xgb", pipe(ct(), xgboost.XGBClassifier(n_estimators=5, max_depth=2)), XMIX, Y
    yield "ct_remainder_passthrough", pipe(ct(remainder="passthrough")), XMIX, Y
    yield "ct_remainder_drop", pipe(ct(remainder="drop")), XMIX, Y
    yield "ct_remainder_scaler", pipe(ct(remainder=StandardScaler())), XMIX, Y
    yield "ct_passthrough_step", pipe(ct(extra=[("raw", "passthrough", [3])])), XMIX, Y
    yield "ct_drop_step", pipe(ct(extra=[("gone", "drop", [3])])), XMIX, Y
    yield "ct_ordinal_imputer", pipe(
        ColumnTransformer([("cat", OrdinalEncoder(), [0]), ("num", make_pipeline(SimpleImputer(), StandardScaler()), [1, 2, 3])])
    ), XMIX, Y
    for fn in ("log1p", "sqrt", "expm1", "log", "exp", "abs", "square", "tanh"):
        func = getattr(np, fn)
        yield f"ct_function_{fn}", pipe(
            ColumnTransformer([("f", FunctionTransformer(func, inverse_func=None, validate=True), [1, 2]), ("cat", OneHotEncoder(), [0])])
        ), XMIX, Y
    yield "function_log1p_expm1", pipe(FunctionTransformer(np.log1p, inverse_func=np.expm1)), X, Y
    yield "feature_union", pipe(FeatureUnion([("scale", StandardScaler()), ("log", FunctionTransformer(np.log1p))])), X, Y
    yield "target_log", TransformedTargetRegressor(LinearRegression(), func=np.log1p, inverse_func=np.expm1), X, X[:, 0]
    yield "grid_search_pipeline", GridSearchCV(pipe(StandardScaler()), {"model__C": [0.1, 1.0]}, cv=3), X, Y
    yield "random_search_pipeline", RandomizedSearchCV(pipe(StandardScaler()), {"model__C": [0.1, 1.0]}, n_iter=2, cv=3), X, Y
    yield "halving_grid_pipeline", HalvingGridSearchCV(pipe(StandardScaler()), {"model__C": [0.1, 1.0]}, cv=3), X, Y
    yield "xgb_classifier", xgboost.XGBClassifier(n_estimators=5, max_depth=2), X, Y


def all_models():
    failed = {}
    for name, cls in all_estimators():
        try:
            est = cls(**required_params(cls))
            with contextlib.redirect_stdout(io.StringIO()):
                yield f"sk_{name}", fit(name, est)
        except Exception as error:  # noqa: BLE001 - reported, never silently dropped
            failed[name] = f"{type(error).__name__}: {str(error)[:160]}"
    for name, model, data, target in churn_models():
        yield name, model.fit(data, target)
    yield "_failed", failed


# Every dump is the registry's payload; protocols 2-5 uncompressed, and joblib's compressors.
DUMPS = [
    ("p5", {}),
    ("p2", {"protocol": 2}),
    ("p3", {"protocol": 3}),
    ("p4", {"protocol": 4}),
    ("zlib", {"compress": ("zlib", 3)}),
    ("lz4", {"compress": ("lz4", 3)}),
]
EXTRA_DUMPS = [("gzip", {"compress": ("gzip", 3)}), ("bz2", {"compress": ("bz2", 3)}), ("xz", {"compress": ("xz", 3)})]


def payload(model):
    return {"model": model, "cat_cols": ["plan"], "num_cols": ["tenure", "usage", "charges"], "metric": "roc_auc"}


def main():
    out_dir = sys.argv[1]
    write_fixtures = "--fixtures" in sys.argv
    models_dir = os.path.join(out_dir, "models")
    os.makedirs(models_dir, exist_ok=True)
    records = []
    failed = {}
    fitted = {}
    for name, model in all_models():
        if name == "_failed":
            failed = model
            continue
        fitted[name] = model
        dumps = DUMPS + (EXTRA_DUMPS if name in ("churn_logreg", "churn_xgb") else [])
        for how, kw in dumps:
            path = os.path.join(models_dir, f"{name}.{how}.joblib")
            joblib.dump(payload(model), path, **kw)
            names, _pairs = globals_of(path)
            records.append({"file": os.path.basename(path), "model": name, "dump": how, "size": os.path.getsize(path), "globals": names})
    with open(os.path.join(out_dir, "models.json"), "w") as f:
        json.dump({"records": records, "failed": failed}, f, indent=1)
    write_allowlist(records, failed)
    if write_fixtures:
        write_fixture_set(records, fitted, models_dir)
    print(f"{len(records)} dumps of {len({r['model'] for r in records})} models; {len(failed)} estimators could not be fitted")


def kind_of(path):
    import _compat_pickle

    module, _, name = path.rpartition(".")
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    try:
        obj = getattr(__import__(module, fromlist=[name]), name)
    except Exception:  # noqa: BLE001
        return "unknown"
    if isinstance(obj, np.ufunc):
        return "ufunc"
    if isinstance(obj, type):
        return "class"
    return "function"


def write_allowlist(records, failed):
    used_by = {}
    for r in records:
        for g in r["globals"]:
            used_by.setdefault(g, set()).add(r["model"])
    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "joblib": joblib.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    models = sorted({r["model"] for r in records})
    lines = [
        "// Generated by lib/inspect/tools/gen-allowlist.py from real artifacts; do not edit.",
        "// Every (module, name) that joblib dumps of the models below import, with what kind of object it is.",
        "",
        "/** Where the generated allowlist came from. */",
        "export const GENERATED_PROVENANCE = {",
        f"  generator: {json.dumps('lib/inspect/tools/gen-allowlist.py')},",
        f"  versions: {json.dumps(versions)},",
        f"  dumps: {len(records)},",
        f"  models: {len(models)},",
        f"  dumpedAs: {json.dumps([d for d, _ in DUMPS + EXTRA_DUMPS])},",
        f"  notFitted: {json.dumps(sorted(failed))},",
        "} as const;",
        "",
        "/** [module.name, kind, how many generated models import it]; kind is class, function or ufunc. */",
        "export const GENERATED_GLOBALS: readonly (readonly [string, \"class\" | \"function\" | \"ufunc\", number])[] = [",
    ]
    for g in sorted(used_by):
        lines.append(f"  [{json.dumps(g)}, {json.dumps(kind_of(g))}, {len(used_by[g])}],")
    lines.append("];")
    with open(os.path.join(INSPECT, "allowlist-generated.ts"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_fixture_set(records, models, models_dir):
    """A compact committed set: the churn pipelines dumped every way, plus a few "zoo" payloads that
    carry, beside a model, the fewest other small fitted models that together import every global."""
    target = os.path.join(INSPECT, "testdata", "generated")
    os.makedirs(target, exist_ok=True)
    for old in os.listdir(target):
        os.remove(os.path.join(target, old))
    chosen = [r for r in records if r["model"] in ("churn_logreg", "churn_xgb")]
    # Sets pickle as builtins.set (protocol 3) or __builtin__.set (protocol 2) only below protocol 4.
    chosen += [r for r in records if r["model"] == "sk_CountVectorizer" and r["dump"] in ("p2", "p3")]
    remaining = {g for r in records for g in r["globals"]} - {g for r in chosen for g in r["globals"]}
    pool = [r for r in records if r["dump"] == "p5"]
    zoo = []
    while remaining:
        best = max(pool, key=lambda r: (len(remaining & set(r["globals"])) / (1 + r["size"] / 2048), -r["size"]))
        if not remaining & set(best["globals"]):
            break
        zoo.append(best["model"])
        remaining -= set(best["globals"])
    if remaining:
        raise SystemExit(f"globals no fixture covers: {sorted(remaining)}")
    manifest = [fixture_entry(target, r["file"], r["model"], r["dump"], os.path.join(models_dir, r["file"])) for r in chosen]
    for i in range(0, len(zoo), 12):
        group = zoo[i : i + 12]
        name = f"zoo{i // 12 + 1}"
        path = os.path.join(models_dir, f"{name}.zlib.joblib")
        joblib.dump({**payload(models[group[0]]), "more": [models[m] for m in group[1:]]}, path, compress=("zlib", 9))
        manifest.append(fixture_entry(target, os.path.basename(path), "+".join(group), "zlib", path))
    with open(os.path.join(target, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"fixtures: {len(manifest)} files, {sum(m['size'] for m in manifest)} bytes")


def fixture_entry(target, file, model, dump, path):
    names, _pairs = globals_of(path)
    with open(path, "rb") as src:
        data = src.read()
    with open(os.path.join(target, file), "wb") as dst:
        dst.write(data)
    model_class = type(joblib.load(path)["model"])
    return {
        "file": file,
        "models": model,
        "dump": dump,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "modelClass": f"{model_class.__module__}.{model_class.__qualname__}",
        "globals": names,
    }


if __name__ == "__main__":
    main()
