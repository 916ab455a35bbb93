# The seed's way: json.load every metrics file and pick the best (the reference the CLI is measured against).
import glob, json, os, sys
root = sys.argv[1]
best, best_score = None, -1.0
for path in glob.glob(os.path.join(root, "metrics", "*.json")):
    if os.path.basename(path) == "production_latest.json":
        continue
    with open(path) as f:
        m = json.load(f)
    scope = m["metrics"] if isinstance(m.get("metrics"), dict) else m
    for key in ("pr_auc", "average_precision", "roc_auc", "f1", "accuracy"):
        v = scope.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if v > best_score:
                best, best_score = path, v
            break
print(best, best_score)
