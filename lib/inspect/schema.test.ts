import { describe, expect, it } from "vitest";
import { inspectBytes } from "./inspect";
import { compareSchemas, emptySchema } from "./schema";
import { rawFixture } from "./test-support/fixtures";
import { type PickleBuilder, pickle } from "./test-support/pickle-builder";
import type { FeatureSchema } from "./types";

function schema(cat: string[] | null, num: string[] | null): FeatureSchema {
  return { ...emptySchema(), catCols: cat, numCols: num };
}

describe("compareSchemas", () => {
  const production = schema(["plan", "region"], ["tenure_days", "logins_30d"]);

  it("matches identical column sets, whatever their order", () => {
    expect(compareSchemas(schema(["region", "plan"], ["logins_30d", "tenure_days"]), production)).toEqual({
      matches: true,
      detail: "Same features: 2 categorical and 2 numeric columns.",
    });
  });

  it("names missing and extra columns per list", () => {
    expect(compareSchemas(schema(["plan", "country"], ["tenure_days", "logins_30d"]), production)).toEqual({
      matches: false,
      detail: "cat_cols differ: missing [region], extra [country].",
    });
    expect(compareSchemas(schema(["plan", "region"], ["tenure_days"]), production).detail).toBe("num_cols differ: missing [logins_30d].");
  });

  it("catches a column moved from numeric to categorical", () => {
    const moved = compareSchemas(schema(["plan", "region", "logins_30d"], ["tenure_days"]), production);
    expect(moved.matches).toBe(false);
    expect(moved.detail).toBe("cat_cols differ: extra [logins_30d]; num_cols differ: missing [logins_30d].");
  });

  it("does not call unknown schemas a match", () => {
    expect(compareSchemas(emptySchema(), production)).toEqual({
      matches: false,
      detail: "the candidate does not declare cat_cols; the candidate does not declare num_cols.",
    });
    expect(compareSchemas(emptySchema(), emptySchema()).matches).toBe(false);
  });

  it("compares two real fixture files as matching", () => {
    const a = inspectBytes(rawFixture(2)).schema;
    const b = inspectBytes(rawFixture(5)).schema;
    expect(compareSchemas(a, b)).toEqual({ matches: true, detail: "Same features: 4 categorical and 6 numeric columns." });
  });
});

describe("schema extraction", () => {
  /** {"model": <model>, "cat_cols": [...], "num_cols": [...]} in protocol 4. */
  function payload(model: (b: PickleBuilder) => void, cat: string[] = ["a"], num: string[] = ["x", "y"]): Uint8Array {
    const b = pickle().proto(4).emptyDict().mark().unicode("model");
    model(b);
    b.unicode("cat_cols").emptyList().mark();
    for (const c of cat) b.unicode(c);
    b.appends().unicode("num_cols").emptyList().mark();
    for (const c of num) b.unicode(c);
    return b.appends().setItems().stop().bytes();
  }

  it("reads a bare estimator as its own final estimator", () => {
    const report = inspectBytes(payload((b) => b.stackGlobal("sklearn.ensemble._forest", "RandomForestClassifier").emptyTuple().newObj()));
    expect(report.verdict).toBe("safe");
    expect(report.schema).toEqual({
      keys: ["model", "cat_cols", "num_cols"],
      catCols: ["a"],
      numCols: ["x", "y"],
      modelClass: "sklearn.ensemble._forest.RandomForestClassifier",
      finalEstimator: "sklearn.ensemble._forest.RandomForestClassifier",
      pipelineSteps: null,
    });
  });

  it("takes the last BUILD's steps of a Pipeline, and a passthrough final step has no class", () => {
    const report = inspectBytes(
      payload((b) =>
        b
          .stackGlobal("sklearn.pipeline", "Pipeline")
          .emptyTuple()
          .newObj()
          .emptyDict()
          .unicode("steps")
          .emptyList()
          .mark()
          .unicode("scale")
          .stackGlobal("sklearn.preprocessing._data", "StandardScaler")
          .emptyTuple()
          .newObj()
          .tuple2()
          .unicode("final")
          .unicode("passthrough")
          .tuple2()
          .appends()
          .setItem()
          .build(),
      ),
    );
    expect(report.schema.pipelineSteps).toEqual(["scale", "final"]);
    expect(report.schema.finalEstimator).toBeNull();
    expect(report.schema.modelClass).toBe("sklearn.pipeline.Pipeline");
  });

  it("leaves columns null when they are not lists of strings", () => {
    const bytes = pickle().proto(4).emptyDict().unicode("cat_cols").binInt1(3).setItem().stop().bytes();
    const report = inspectBytes(bytes);
    expect(report.schema.keys).toEqual(["cat_cols"]);
    expect(report.schema.catCols).toBeNull();
    expect(report.schema.modelClass).toBeNull();
  });

  it("keeps the first position of a key assigned twice, and its last value", () => {
    const bytes = pickle()
      .proto(4)
      .emptyDict()
      .mark()
      .unicode("num_cols")
      .emptyList()
      .unicode("cat_cols")
      .emptyList()
      .unicode("num_cols")
      .emptyList()
      .mark()
      .unicode("z")
      .appends()
      .setItems()
      .stop()
      .bytes();
    const report = inspectBytes(bytes);
    expect(report.schema.keys).toEqual(["num_cols", "cat_cols"]);
    expect(report.schema.numCols).toEqual(["z"]);
  });
});
