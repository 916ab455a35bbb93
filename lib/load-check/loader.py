"""Loads one model file with joblib and predicts on a small frame: the registry's loads_and_predicts check.

Run only inside the sandbox (lib/load-check/sandbox.ts), only on files the static inspector judged safe,
with the team's serving Python (REGISTRY_LOAD_PYTHON). Prints one JSON object on stdout and exits 0; anything
else (a crash, a kill at a limit, no output) is read by the caller as a failure.

    loader.py MODEL [SAMPLE_CSV]
"""
import json
import math
import platform
import sys
import time

MAX_ERROR = 2000


def emit(result):
    sys.stdout.write(json.dumps(result, allow_nan=False) + "\n")
    sys.stdout.flush()


def versions():
    seen = {"python": platform.python_version()}
    for name in ("sklearn", "joblib", "numpy", "pandas"):
        mod = sys.modules.get(name)
        if mod is not None:
            seen[name] = getattr(mod, "__version__", "unknown")
    return seen


def known_categories(root):
    """Column -> one category the fitted encoders know, so a sample row is not refused as unknown."""
    found = {}
    seen = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        names = getattr(obj, "feature_names_in_", None)
        cats = getattr(obj, "categories_", None)
        if names is not None and cats is not None:
            for col, values in zip(list(names), list(cats)):
                if len(values):
                    found.setdefault(str(col), values[0].item() if hasattr(values[0], "item") else values[0])
        for attr in ("steps", "transformers_", "transformer_list", "estimators_", "estimator", "best_estimator_"):
            value = getattr(obj, attr, None)
            if value is None:
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, tuple):
                    stack.extend(x for x in item if hasattr(x, "__dict__"))
                elif hasattr(item, "__dict__"):
                    stack.append(item)
    return found


def sample_frame(model, cat_cols, num_cols, sample_csv):
    import numpy as np

    if sample_csv:
        import pandas as pd

        return pd.read_csv(sample_csv, nrows=20), "sample file"
    if cat_cols or num_cols:
        import pandas as pd

        cats = known_categories(model)
        rows = 5
        data = {}
        for col in num_cols or []:
            data[col] = [0.0, 1.0, 0.5, -1.0, 2.0][:rows]
        for col in cat_cols or []:
            data[col] = [cats.get(str(col), "unknown")] * rows
        return pd.DataFrame(data), "built from cat_cols/num_cols"
    n = getattr(model, "n_features_in_", None)
    if n is None:
        raise ValueError("no cat_cols/num_cols saved with the model and no n_features_in_: give a sample file")
    return np.zeros((5, int(n))), f"{n} zero features (n_features_in_)"


def summary(output):
    import numpy as np

    arr = np.asarray(output)
    flat = arr.astype(float).ravel() if arr.dtype.kind in "biuf" else None
    finite = [x for x in (flat.tolist() if flat is not None else []) if math.isfinite(x)]
    return {
        "outputShape": list(arr.shape),
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
    }


def main():
    path = sys.argv[1]
    sample_csv = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    try:
        import joblib  # noqa: F401
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        emit({"ran": False, "ok": False, "error": f"{type(e).__name__}: {e}"[:MAX_ERROR], "versions": versions()})
        return
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    result = {"ran": True, "ok": False, "versions": versions()}
    try:
        started = time.perf_counter()
        loaded = joblib.load(path)
        result["loadMs"] = round((time.perf_counter() - started) * 1000, 1)
        model = loaded.get("model", loaded) if isinstance(loaded, dict) else loaded
        cat_cols = loaded.get("cat_cols") if isinstance(loaded, dict) else None
        num_cols = loaded.get("num_cols") if isinstance(loaded, dict) else None
        result["modelClass"] = f"{type(model).__module__}.{type(model).__qualname__}"
        frame, how = sample_frame(model, cat_cols, num_cols, sample_csv)
        result["input"] = how
        method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
        result["method"] = method
        started = time.perf_counter()
        output = getattr(model, method)(frame)
        result["predictMs"] = round((time.perf_counter() - started) * 1000, 1)
        result.update(summary(output))
        result["ok"] = True
    except BaseException as e:  # the model's own code failed: that is the finding
        result["error"] = f"{type(e).__name__}: {e}"[:MAX_ERROR]
    result["versions"] = versions()
    emit(result)


if __name__ == "__main__":
    main()
