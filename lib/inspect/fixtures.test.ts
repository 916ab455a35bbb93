import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyGlobal } from "./allowlist";
import { inspectBytes, inspectFile } from "./inspect";
import { FIXTURE_ROOT, loadManifest, modelFixtures, readFixture } from "./test-support/fixtures";

const models = modelFixtures();

describe("registry-basic fixtures (real sklearn 1.2.1 / joblib 1.2.0 files)", () => {
  it("covers every container and protocol the corpus uses", () => {
    expect(new Set(models.map((m) => m.joblib_compression))).toEqual(new Set(["none", "zlib", "gzip", "bz2", "lzma", "lz4"]));
    expect(new Set(models.map((m) => m.pickle_protocol))).toEqual(new Set([2, 4, 5]));
  });

  for (const model of models) {
    describe(path.basename(model.path), () => {
      const report = inspectBytes(readFixture(model));

      it("is safe, in the container and protocol MANIFEST records", () => {
        expect(report.verdict, report.reason).toBe("safe");
        expect(report.reason).toBe(`All ${model.pickle_globals.length} imported globals are on the allowlist.`);
        expect(report.container).toBe(model.joblib_compression);
        expect(report.protocol).toBe(model.pickle_protocol);
        expect(report.decompressedSize).toBe(model.decompressed_size);
      });

      it("imports exactly MANIFEST's globals, nested ones flagged", () => {
        expect(report.globals.map((g) => `${g.module}.${g.name}`).sort()).toEqual([...model.pickle_globals].sort());
        expect(
          report.globals
            .filter((g) => g.nested)
            .map((g) => `${g.module}.${g.name}`)
            .sort(),
        ).toEqual([...model.pickle_globals_in_nested_array_pickles].sort());
        expect(report.globals.every((g) => g.status === "allowed")).toBe(true);
      });

      it("skips exactly MANIFEST's numpy blocks", () => {
        expect(report.stats.numpyArrays).toBe(model.scan.numpy_arrays);
        expect(report.stats.nestedPickles).toBe(model.scan.nested_array_pickles);
      });

      it("reads the feature schema", () => {
        expect(report.schema.keys).toEqual(model.payload_keys);
        expect(report.schema.catCols).toEqual(model.cat_cols);
        expect(report.schema.numCols).toEqual(model.num_cols);
        expect(report.schema.modelClass).toBe(model.model_class_path);
        expect(report.schema.finalEstimator?.split(".").pop()).toBe(model.final_estimator_class);
        expect(report.schema.pipelineSteps).toEqual(model.pipeline_steps);
      });
    });
  }

  it("sorts globals by module then name", () => {
    const report = inspectBytes(readFixture(models[0] as (typeof models)[number]));
    const keys = report.globals.map((g) => [g.module, g.name] as const);
    const sorted = [...keys].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
    expect(keys).toEqual(sorted);
  });

  it("allowlists every benign global MANIFEST observed, by exact pair", () => {
    for (const dotted of loadManifest().observed_benign_globals) {
      const at = dotted.lastIndexOf(".");
      expect(classifyGlobal(dotted.slice(0, at), dotted.slice(at + 1)), dotted).toBe("allowed");
    }
  });

  it("inspects from disk the same way", async () => {
    const model = models.find((m) => m.joblib_compression === "bz2");
    if (!model) throw new Error("corpus has no bz2 model");
    const report = await inspectFile(path.join(FIXTURE_ROOT, model.path));
    expect(report.verdict).toBe("safe");
    expect(report.container).toBe("bz2");
    expect(report.compressedSize).toBe(readFixture(model).length);
  });
});
