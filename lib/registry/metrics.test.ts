import { describe, expect, it } from "vitest";
import { MAX_NESTING, NESTED_TOO_DEEPLY, parseMetricsScore, parseMetricsText, scoreOf } from "./metrics";
import { checkStem, isoTimestamp, parseStem, validateVersionName } from "./names";

const score = (text: string) => {
  const r = parseMetricsText(text);
  if (!r.ok) throw new Error(r.message);
  return { score: r.doc.score, metric: r.doc.metric };
};

describe("score rule", () => {
  it("takes the first finite number in pr_auc, average_precision, roc_auc, f1, accuracy order", () => {
    expect(score('{"accuracy": 0.9, "roc_auc": 0.8, "pr_auc": 0.7}')).toEqual({ score: 0.7, metric: "pr_auc" });
    expect(score('{"accuracy": 0.9, "f1": 0.5}')).toEqual({ score: 0.5, metric: "f1" });
    expect(score('{"metrics": {"average_precision": 0.66, "roc_auc": 0.8}}')).toEqual({ score: 0.66, metric: "average_precision" });
  });

  it("skips strings, booleans, null and Python's NaN/Infinity", () => {
    expect(score('{"pr_auc": "0.9", "average_precision": true, "roc_auc": null, "f1": NaN, "accuracy": 0.8}')).toEqual({
      score: 0.8,
      metric: "accuracy",
    });
    expect(score('{"pr_auc": Infinity, "roc_auc": -Infinity}')).toEqual({ score: -1, metric: "unknown" });
  });

  it("uses the nested metrics object without falling back to the top level", () => {
    expect(score('{"pr_auc": 0.9, "metrics": {"roc_auc": 0.7}}')).toEqual({ score: 0.7, metric: "roc_auc" });
    expect(score('{"pr_auc": 0.9, "metrics": {}}')).toEqual({ score: -1, metric: "unknown" });
    // A non-object "metrics" is not a metrics object: the top level counts.
    expect(score('{"pr_auc": 0.9, "metrics": [1]}')).toEqual({ score: 0.9, metric: "pr_auc" });
  });

  it("keeps NaN visible as text and NaN inside strings untouched", () => {
    const r = parseMetricsText('{"metrics": {"pr_auc": NaN, "roc_auc": 0.7}, "note": "NaN is fine here"}');
    expect(r.ok && r.doc.metrics.pr_auc).toBe("NaN");
    expect(r.ok && r.doc.extra.note).toBe("NaN is fine here");
  });

  it("reads a BOM-prefixed file and keeps a __proto__ key as data", () => {
    const r = parseMetricsText('\uFEFF{"__proto__": {"polluted": 1}, "metrics": {"pr_auc": 0.61, "__proto__": 5}}');
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.ok && r.doc.score).toBe(0.61);
    expect(scoreOf({ metrics: { pr_auc: 0.5 } })).toEqual({ score: 0.5, metric: "pr_auc" });
  });

  it("explains broken files instead of throwing", () => {
    expect(parseMetricsText("{")).toMatchObject({ ok: false, code: "invalid_json" });
    expect(parseMetricsText("[]")).toMatchObject({ ok: false, code: "not_object" });
    expect(parseMetricsText("null")).toMatchObject({ ok: false, code: "not_object" });
    expect(parseMetricsText("[".repeat(200_000))).toMatchObject({ ok: false, code: "invalid_json" });
  });
});

describe("deeply nested files", () => {
  const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
  const parse = (text: string) => {
    const r = parseMetricsText(text);
    if (!r.ok) throw new Error(r.message);
    return r.doc;
  };

  it("reads a file nested 100,000 levels deep, keeping its score, with nothing deeper than MAX_NESTING", () => {
    for (const nan of ["", ', "f1": NaN']) {
      const doc = parse(
        `{"metrics": {"pr_auc": 0.7, "curve": ${deep(100_000)}${nan}}, "hyperparameters": {"layers": ${deep(100_000)}, "C": 1}, "lineage": ${deep(100_000)}}`,
      );
      expect(doc.score).toBe(0.7);
      expect(doc.hyperparameters?.C).toBe(1);
      expect(JSON.stringify(doc.hyperparameters?.layers)).toContain(JSON.stringify(NESTED_TOO_DEEPLY));
      if (nan) expect(doc.metrics.f1).toBe("NaN");
      // Everything a document goes through afterwards: JSON for the CLI, a clone for a worker's message.
      expect(() => JSON.stringify(doc)).not.toThrow();
      expect(() => structuredClone(doc)).not.toThrow();
      let depth = 0;
      for (let v: unknown = doc.extra.lineage; Array.isArray(v); v = v[0]) depth++;
      // The file's object is level 1, "lineage" the array at level 2.
      expect(depth).toBe(MAX_NESTING - 1);
    }
    expect(parseMetricsScore(`{"pr_auc": 0.4, "x": ${deep(100_000)}, "y": NaN}`)).toEqual({ ok: true, score: 0.4, metric: "pr_auc" });
  });

  it("keeps values nested up to the bound as they are, and NaN inside them", () => {
    const doc = parse(`{"metrics": {"pr_auc": 0.5}, "hyperparameters": {"grid": [[1, NaN], {"a": [Infinity]}]}}`);
    expect(doc.hyperparameters?.grid).toEqual([[1, "NaN"], { a: ["Infinity"] }]);
    const atBound = `{"x": ${deep(MAX_NESTING - 1)}}`;
    expect(JSON.stringify(parse(atBound).extra.x)).toBe(deep(MAX_NESTING - 1));
    expect(JSON.stringify(parse(`{"x": ${deep(MAX_NESTING)}}`).extra.x)).toBe(
      `${"[".repeat(MAX_NESTING - 1)}${JSON.stringify(NESTED_TOO_DEEPLY)}${"]".repeat(MAX_NESTING - 1)}`,
    );
  });
});

describe("version names", () => {
  it("lists a name only when it can be named: the scan's rule and validateVersionName agree", () => {
    const hostile = [
      "<img src=x onerror=alert(1)>_20250607T000000Z",
      "my model_20250607T000000Z",
      "modèle_20250607T000000Z",
      "a..b_20250607T000000Z",
      ".hidden_20250607T000000Z",
      "-rf_20250607T000000Z",
      "x%2e_20250607T000000Z",
      "x\u0007_20250607T000000Z",
      `${"a".repeat(190)}_20250607T000000Z`,
    ];
    for (const stem of hostile) {
      expect(checkStem(stem), stem).toMatchObject({ ok: false, code: "bad_name" });
      expect(() => validateVersionName(stem), stem).toThrow();
    }
    expect(checkStem(hostile[0] as string)).toMatchObject({ message: expect.stringMatching(/letters, digits/) });
    for (const stem of ["candidate_logreg_20250305T101000Z", "a.b-c_d_20250607T000000Z", `${"a".repeat(183)}_20250607T000000Z`]) {
      expect(checkStem(stem).ok, stem).toBe(true);
      expect(validateVersionName(decodeURIComponent(encodeURIComponent(stem)))).toBe(stem);
    }
  });

  it("splits at the last underscore and requires a real UTC instant", () => {
    expect(parseStem("candidate_logreg_20250305T101000Z")).toEqual({
      ok: true,
      stem: "candidate_logreg_20250305T101000Z",
      modelType: "candidate_logreg",
      timestamp: "2025-03-05T10:10:00Z",
    });
    expect(parseStem("x_20240229T000000Z").ok).toBe(true);
    expect(parseStem("x_20250229T000000Z").ok).toBe(false);
    expect(parseStem("x_20251301T000000Z").ok).toBe(false);
    expect(parseStem("x_20250101T000060Z").ok).toBe(false);
    expect(parseStem("_20250101T000000Z").ok).toBe(false);
  });

  it("checks a name the way parseStem does, saying only where the model type ends", () => {
    for (const stem of ["a_b_20250305T101000Z", "x_20250229T000000Z", "x_2025-03-05", "nounderscore", "x_20250101T240000Z"]) {
      const parsed = parseStem(stem);
      const checked = checkStem(stem);
      expect(checked.ok).toBe(parsed.ok);
      if (parsed.ok && checked.ok) expect(stem.slice(0, checked.cut)).toBe(parsed.modelType);
      if (!parsed.ok && !checked.ok) expect(checked).toEqual(parsed);
    }
    expect(isoTimestamp("19991231T235959Z")).toBe("1999-12-31T23:59:59Z");
  });

  it("refuses traversal in every spelling", () => {
    for (const bad of [
      "../x",
      "../../etc/passwd",
      "/etc/passwd",
      "%2e%2e%2fx_20250101T000000Z",
      "%252e%252e%252f",
      "..\\x_20250101T000000Z",
      "a/b_20250101T000000Z",
      "x_20250101T000000Z\u0000",
      "x_20250101T000000Z\n",
      "\u2024\u2024/x_20250101T000000Z",
      "x..y_20250101T000000Z",
      "production_latest",
      "",
      42,
    ]) {
      expect(() => validateVersionName(bad), String(bad)).toThrow(/version name|required|alias|timestamp/);
    }
    expect(validateVersionName("candidate_logreg_20250305T101000Z.joblib")).toBe("candidate_logreg_20250305T101000Z");
  });
});
