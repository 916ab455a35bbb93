// Builds a synthetic registry of N versions from the demo registry's real files: one real model file,
// hard-linked under every version name (or copied, with --copy), and realistic nested or flat metrics.
import { copyFileSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dirname, "..");
const DEMO = join(repo, "artifacts");

/** Deterministic pseudo-random numbers, so every run measures the same registry. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function generateRegistry(dir, n, { copy = false } = {}) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "models"), { recursive: true });
  mkdirSync(join(dir, "metrics"), { recursive: true });
  const model = join(DEMO, "models", "candidate_logreg_20250305T101000Z.joblib");
  const nested = JSON.parse(readFileSync(join(DEMO, "metrics", "candidate_logreg_20250305T101000Z.json"), "utf8"));
  const rand = rng(n);
  const start = Date.UTC(2020, 0, 1);
  const types = ["baseline_logreg", "candidate_logreg", "gbm", "rf_balanced"];
  let productionStem = null;
  for (let i = 0; i < n; i++) {
    const t = new Date(start + i * 3_600_000);
    const stamp = t
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z");
    const stem = `${types[i % types.length]}_${stamp}`;
    const target = join(dir, "models", `${stem}.joblib`);
    if (copy) copyFileSync(model, target);
    else linkSync(model, target);
    const pr = 0.45 + rand() * 0.25;
    const roc = 0.7 + rand() * 0.2;
    const doc =
      i % 10 === 3
        ? { model_type: "logistic_regression", artifact: `${stem}.joblib`, pr_auc: pr, roc_auc: roc, "precision@50": rand(), C: 0.1 }
        : {
            ...nested,
            artifact: `${stem}.joblib`,
            trained_at: t.toISOString(),
            git_commit: Math.floor(rand() * 0xfffffff).toString(16),
            metrics: { pr_auc: pr, roc_auc: roc, "precision@50": rand(), "recall@50": rand() * 0.2 },
            hyperparameters: { C: Math.round(rand() * 1000) / 100, max_iter: 2000, class_weight: "balanced" },
          };
    writeFileSync(join(dir, "metrics", `${stem}.json`), JSON.stringify(doc, null, 2));
    if (i === Math.floor(n / 2)) productionStem = stem;
  }
  copyFileSync(join(dir, "models", `${productionStem}.joblib`), join(dir, "models", "production_latest.joblib"));
  copyFileSync(join(dir, "metrics", `${productionStem}.json`), join(dir, "metrics", "production_latest.json"));
  return { productionStem };
}

if (process.argv[1] === import.meta.filename) {
  const [dir, n, flag] = process.argv.slice(2);
  generateRegistry(dir, Number(n), { copy: flag === "--copy" });
}
