import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allowedGlobals, classifyGlobal, reviewedCallables, spellingsOf } from "./allowlist";
import { GENERATED_GLOBALS, GENERATED_PROVENANCE } from "./allowlist-generated";
import { inspectBytes } from "./inspect";
import { TESTDATA } from "./test-support/fixtures";
import { pickle } from "./test-support/pickle-builder";
import type { InspectionPolicy } from "./types";

const GENERATED = path.join(TESTDATA, "generated");
interface Fixture {
  file: string;
  models: string;
  dump: string;
  size: number;
  modelClass: string;
  globals: string[];
}
const manifest: Fixture[] = JSON.parse(readFileSync(path.join(GENERATED, "manifest.json"), "utf8"));

describe("models made by the generator (lib/inspect/testdata/generated)", () => {
  it.each(manifest.map((f) => [f.file, f] as const))("%s is safe, names exactly its globals and reads its schema", (_name, fixture) => {
    const report = inspectBytes(new Uint8Array(readFileSync(path.join(GENERATED, fixture.file))));
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.globals.map((g) => `${g.module}.${g.name}`)).toEqual([...fixture.globals].sort(byModuleThenName));
    expect(report.schema.modelClass).toBe(fixture.modelClass);
    expect(report.schema.catCols).toEqual(["plan"]);
    expect(report.schema.numCols).toEqual(["tenure", "usage", "charges"]);
    expect(report.schema.keys).toEqual(expect.arrayContaining(["model", "cat_cols", "num_cols"]));
  });

  it("the committed set imports every global the full generator run recorded, in every container and protocol", () => {
    const covered = new Set(manifest.flatMap((f) => f.globals));
    expect(GENERATED_GLOBALS.map(([g]) => g).filter((g) => !covered.has(g))).toEqual([]);
    expect(new Set(manifest.map((f) => f.dump))).toEqual(new Set(["p2", "p3", "p4", "p5", "zlib", "lz4", "gzip", "bz2", "xz"]));
    expect(readdirSync(GENERATED).filter((f) => f.endsWith(".joblib"))).toHaveLength(manifest.length);
  });

  it("records where the list came from", () => {
    expect(GENERATED_PROVENANCE.versions["scikit-learn"]).toMatch(/^\d+\.\d+/);
    expect(GENERATED_PROVENANCE.versions.xgboost).toMatch(/^\d+\.\d+/);
    expect(GENERATED_PROVENANCE.notFitted).toEqual([]);
    expect(GENERATED_PROVENANCE.models).toBeGreaterThan(200);
  });

  it("every generated function was reviewed: a new one stays unknown until it is added to REVIEWED_FUNCTIONS", () => {
    const reviewed = new Set(reviewedCallables());
    const unreviewed = GENERATED_GLOBALS.filter(([g, kind]) => kind !== "class" && !reviewed.has(g)).map(([g]) => g);
    expect(unreviewed).toEqual([]);
  });
});

function byModuleThenName(a: string, b: string): number {
  const [ma, na] = [a.slice(0, a.lastIndexOf(".")), a.slice(a.lastIndexOf(".") + 1)];
  const [mb, nb] = [b.slice(0, b.lastIndexOf(".")), b.slice(b.lastIndexOf(".") + 1)];
  return ma === mb ? (na < nb ? -1 : na > nb ? 1 : 0) : ma < mb ? -1 : 1;
}

describe("renames across library versions, by rule", () => {
  it.each([
    ["numpy._core.multiarray._reconstruct", "numpy 2 spelling of a generated numpy 1 global"],
    ["numpy._core._multiarray_umath.log1p", "a pure ufunc under numpy 2's module"],
    ["numpy.log1p", "a pure ufunc as numpy >= 1.25 pickles it"],
    ["sklearn.neighbors._dist_metrics.EuclideanDistance", "scikit-learn 1.0 distance metrics module"],
    ["sklearn.metrics._dist_metrics.EuclideanDistance64", "scikit-learn 1.3 distance class name"],
    ["sklearn.neighbors._kd_tree.KDTree64", "scikit-learn 1.6 tree class name"],
    ["sklearn.utils.Bunch", "Bunch before scikit-learn 1.2"],
  ])("allows %s (%s)", (full) => {
    const dot = full.lastIndexOf(".");
    expect(classifyGlobal(full.slice(0, dot), full.slice(dot + 1))).toBe("allowed");
  });

  it.each([
    ["sklearn.tree._tree", "Tree64", "the Tree rule is for the neighbours' trees only"],
    ["sklearn.utils._bunch", "Pipeline", "the Bunch move does not carry other sklearn.utils names"],
    ["numpy._core.multiarray", "fromfile", "a rename never adds a name that was not allowed"],
    ["numpy._core._multiarray_umath", "fromfile", "reads files: not a pure ufunc"],
    ["numpy.core", "_ufunc_reconstruct", "imports any module by name"],
  ])("does not allow %s.%s (%s)", (module, name) => {
    expect(classifyGlobal(module, name)).not.toBe("allowed");
  });

  it("every allowed pair is exact: spellings only ever rename, never widen", () => {
    expect(spellingsOf("numpy.core.multiarray.scalar").sort()).toEqual(["numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar"]);
    expect(allowedGlobals().every((g) => !g.endsWith(".*") && !g.endsWith("."))).toBe(true);
  });
});

/** A pickled FunctionTransformer (as scikit-learn writes it) holding `module.name` as its func. */
function functionTransformer(module: string, name: string): Uint8Array {
  return pickle()
    .proto(2)
    .global("sklearn.preprocessing._function_transformer", "FunctionTransformer")
    .emptyTuple()
    .newObj()
    .emptyDict()
    .unicode("func")
    .global(module, name)
    .setItem()
    .build()
    .stop()
    .bytes();
}

describe("callables are judged by what they are", () => {
  it("a FunctionTransformer holding numpy.log1p is safe (numpy 1.x and 2.x spellings)", () => {
    for (const module of ["numpy.core._multiarray_umath", "numpy._core._multiarray_umath", "numpy"]) {
      const report = inspectBytes(functionTransformer(module, "log1p"));
      expect(report.verdict, report.reason).toBe("safe");
    }
  });

  it.each([
    ["numpy.core._multiarray_umath", "fromfile", "unknown"],
    ["scipy.special._ufuncs", "expit", "unknown"],
    ["numpy", "load", "dangerous"],
    ["builtins", "eval", "dangerous"],
  ])("a FunctionTransformer holding %s.%s keeps the file unsafe", (module, name, status) => {
    const report = inspectBytes(functionTransformer(module, name));
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.name === name)?.status).toBe(status);
    expect(report.globals.find((g) => g.name === "FunctionTransformer")?.status).toBe("allowed");
  });
});

describe("the registry's trust list", () => {
  const winsorizer = pickle().proto(4).stackGlobal("acme_features", "Winsorizer").emptyTuple().newObj().emptyDict().build().stop().bytes();
  const policy: InspectionPolicy = {
    trusted: [{ module: "acme_features", name: "Winsorizer", by: "ada", at: "2026-12-05T10:00:00.000Z" }],
  };

  it("an in-house class is unsafe until trusted, then safe and marked as trusted by whom and when", () => {
    expect(inspectBytes(winsorizer).verdict).toBe("unsafe");
    const report = inspectBytes(winsorizer, undefined, policy);
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.reason).toMatch(/trusted by registry policy/);
    expect(report.globals).toEqual([
      {
        module: "acme_features",
        name: "Winsorizer",
        status: "trusted",
        nested: false,
        trust: { by: "ada", at: "2026-12-05T10:00:00.000Z" },
      },
    ]);
  });

  it("trust is exact: neither a prefix nor another name in the module", () => {
    const other = pickle().proto(4).stackGlobal("acme_features", "Clipper").emptyTuple().newObj().stop().bytes();
    expect(inspectBytes(other, undefined, policy).verdict).toBe("unsafe");
    const byModule: InspectionPolicy = { trusted: [{ module: "acme", name: "features", by: "ada", at: "x" }] };
    expect(inspectBytes(winsorizer, undefined, byModule).verdict).toBe("unsafe");
  });

  it.each([
    ["os", "system"],
    ["posix", "system"],
    ["subprocess", "Popen"],
    ["builtins", "eval"],
    ["builtins", "getattr"],
    ["runpy", "run_path"],
    ["pickle", "loads"],
    ["importlib", "import_module"],
  ])("a policy naming %s.%s trusts nothing: the deny list always wins", (module, name) => {
    const hostile = pickle().proto(2).global(module, name).unicode("echo pwned").tuple1().reduce().stop().bytes();
    const report = inspectBytes(hostile, undefined, { trusted: [{ module, name, by: "mallory", at: "x" }] });
    expect(report.verdict).toBe("unsafe");
    expect(report.globals[0]?.status).toBe("dangerous");
    expect(report.globals[0]?.trust).toBeUndefined();
  });
});
