import { describe, expect, it } from "vitest";
import { inspectBytes } from "./inspect";
import { inEveryContainer, rawFixture, readTestdata } from "./test-support/fixtures";
import { arrayBlock, type PickleBuilder, pickle } from "./test-support/pickle-builder";
import type { InspectionReport } from "./types";

function names(report: InspectionReport, status?: string): string[] {
  return report.globals.filter((g) => !status || g.status === status).map((g) => `${g.module}.${g.name}`);
}

/** A protocol-4 stream: whatever `body` pushes is the root object. */
function stream(body: (b: PickleBuilder) => void): Uint8Array {
  const b = pickle().proto(4);
  body(b);
  return b.stop().bytes();
}

/** Calls module.name("id") via STACK_GLOBAL whose strings come back from the memo. */
function memoisedCall(module: string, name: string): Uint8Array {
  return stream((b) =>
    b
      .unicode(module)
      .memoize()
      .pop()
      .unicode(name)
      .binPut(7)
      .pop()
      .raw("h", 0) // BINGET 0 -> module
      .binGet(7)
      .raw(0x93)
      .unicode("id")
      .tuple1()
      .reduce(),
  );
}

describe("payloads that run code", () => {
  const viaGlobal: [string, string][] = [
    ["os", "system"],
    ["posix", "system"],
    ["subprocess", "Popen"],
    ["builtins", "eval"],
    ["builtins", "exec"],
    ["builtins", "getattr"],
    ["builtins", "__import__"],
    ["runpy", "_run_code"],
    ["sklearn.utils._testing", "assert_run_python_script"],
    ["numpy.testing._private.utils", "runstring"],
  ];

  for (const [module, name] of viaGlobal) {
    it(`flags ${module}.${name} imported with GLOBAL`, () => {
      const bytes = pickle().global(module, name).mark().string("id").tuple().reduce().stop().bytes();
      const report = inspectBytes(bytes);
      expect(report.verdict).toBe("unsafe");
      expect(names(report, "dangerous")).toEqual([`${module}.${name}`]);
      expect(report.reason).toBe(`Imports a dangerous global: ${module}.${name}.`);
    });

    it(`flags ${module}.${name} imported with STACK_GLOBAL from memoised strings`, () => {
      const report = inspectBytes(memoisedCall(module, name));
      expect(report.verdict).toBe("unsafe");
      expect(names(report)).toEqual([`${module}.${name}`]);
      expect(report.globals[0]?.status).toBe("dangerous");
    });

    it(`flags ${module}.${name} instantiated with INST`, () => {
      const bytes = pickle().mark().string("id").inst(module, name).stop().bytes();
      const report = inspectBytes(bytes);
      expect(report.verdict).toBe("unsafe");
      expect(names(report, "dangerous")).toEqual([`${module}.${name}`]);
    });
  }

  it("judges protocol-2 names by what Python 3 really imports (__builtin__ -> builtins, commands -> subprocess)", () => {
    const bytes = pickle().proto(2).global("__builtin__", "eval").pop().global("commands", "getoutput").pop().none().stop().bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("unsafe");
    expect(report.globals).toEqual([
      { module: "__builtin__", name: "eval", status: "dangerous", nested: false },
      { module: "commands", name: "getoutput", status: "dangerous", nested: false },
    ]);
  });

  it("never matches the allowlist by prefix", () => {
    const bytes = stream((b) =>
      b
        .stackGlobal("sklearn.pipeline", "Pipeline.__init__.__globals__")
        .pop()
        .stackGlobal("numpy.core.multiarray", "_reconstruct_anything")
        .pop()
        .stackGlobal("sklearn", "pipeline")
        .pop()
        .none(),
    );
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.map((g) => [`${g.module}.${g.name}`, g.status])).toEqual([
      ["numpy.core.multiarray._reconstruct_anything", "unknown"],
      ["sklearn.pipeline", "unknown"],
      ["sklearn.pipeline.Pipeline.__init__.__globals__", "dangerous"],
    ]);
  });

  it("calls an unknown global unsafe, not safe", () => {
    const report = inspectBytes(stream((b) => b.stackGlobal("mypkg.models", "Custom").emptyTuple().newObj()));
    expect(report.verdict).toBe("unsafe");
    expect(report.reason).toBe("Imports 1 global not on the allowlist: mypkg.models.Custom.");
  });

  it("treats copyreg extension codes as unknown imports", () => {
    const report = inspectBytes(pickle().proto(2).raw(0x82, 7).stop().bytes());
    expect(report.verdict).toBe("unsafe");
    expect(report.globals).toEqual([{ module: "copyreg.extension_registry", name: "7", status: "unknown", nested: false }]);
  });
});

describe("payloads hidden around joblib's numpy blocks", () => {
  it("finds os.system spliced in after the last array of a real protocol-5 file", () => {
    const report = inspectBytes(readTestdata("hostile-after-arrays.joblib"));
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.module === "os")).toEqual({ module: "os", name: "system", status: "dangerous", nested: false });
    expect(report.stats.numpyArrays).toBe(14);
    // The payload is stack-neutral, so the schema still reads.
    expect(report.schema.catCols).toEqual(["plan", "region", "payment_method", "contract_type"]);
  });

  it("finds os.system inside a nested object-array pickle of a real file", () => {
    const report = inspectBytes(readTestdata("hostile-in-nested.joblib"));
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.module === "os")).toEqual({ module: "os", name: "system", status: "dangerous", nested: true });
  });

  const raw = readTestdata("hostile-proto2.pkl");
  const containers = inEveryContainer(raw, {
    bz2: readTestdata("hostile-proto2.pkl.bz2"),
    lzma: readTestdata("hostile-proto2.pkl.lzma"),
    xz: readTestdata("hostile-proto2.pkl.xz"),
  });
  for (const [container, bytes] of Object.entries(containers)) {
    it(`finds the payload inside a ${container} container`, () => {
      const report = inspectBytes(bytes);
      expect(report.container).toBe(container);
      expect(report.verdict).toBe("unsafe");
      expect(names(report, "dangerous")).toEqual(["os.system"]);
      expect(report.decompressedSize).toBe(raw.length);
    });
  }

  it("skips raw array bytes even when they spell a GLOBAL opcode", () => {
    const data = new TextEncoder().encode("cos\nsystem\n(S'id'\ntR.");
    const bytes = stream((b) => b.wrapper([data.length], (d) => d.dtype("u1", 0)).raw(arrayBlock(data, 3)));
    const report = inspectBytes(bytes);
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.stats.numpyArrays).toBe(1);
  });

  it("parses an object-dtype array as a nested pickle and sees its imports", () => {
    const nested = pickle().proto(2).global("os", "system").mark().string("id").tuple().reduce().stop().bytes();
    const bytes = stream((b) => b.wrapper([1], (d) => d.dtype("O8", 63)).raw(nested));
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.module === "os")?.nested).toBe(true);
    expect(report.stats.nestedPickles).toBe(1);
  });

  // Python's joblib reads array bytes after BUILD on *any* NumpyArrayWrapper instance, however it was
  // made. The 8 raw bytes start like SHORT_BINUNICODE(34): a parser that missed the wrapper would
  // swallow the os.system call that follows into a string.
  const bait = Uint8Array.from([0x8c, 34, 0x58, 0x58, 0x58, 0x58, 0x58, 0x58]);
  const wrapperClass = (b: PickleBuilder) => b.stackGlobal("joblib.numpy_pickle", "NumpyArrayWrapper");
  const routes: [string, (b: PickleBuilder) => void][] = [
    [
      "numpy's scalar(object dtype, obj), which returns obj",
      (b) => {
        b.stackGlobal("numpy.core.multiarray", "scalar").dtype("O8", 63);
        wrapperClass(b).emptyTuple().newObj().tuple2().reduce();
      },
    ],
    [
      "numpy.object_(obj), which returns obj",
      (b) => {
        b.stackGlobal("numpy", "object_");
        wrapperClass(b).emptyTuple().newObj().tuple1().reduce();
      },
    ],
    [
      "copyreg._reconstructor(cls, object, None)",
      (b) => {
        b.stackGlobal("copyreg", "_reconstructor");
        wrapperClass(b).stackGlobal("builtins", "object").none().tuple3().reduce();
      },
    ],
    [
      "numpy.ma's _mareconstruct(cls, ndarray, shape, dtype), which ends in cls.__new__(cls, ...)",
      (b) => {
        b.stackGlobal("numpy.ma.core", "_mareconstruct").mark();
        wrapperClass(b).stackGlobal("numpy", "ndarray").binInt1(0).tuple1().unicode("b").tuple().reduce();
      },
    ],
    [
      "sklearn's KDTree newObj(cls)",
      (b) => {
        b.stackGlobal("sklearn.neighbors._kd_tree", "newObj");
        wrapperClass(b).tuple1().reduce();
      },
    ],
  ];
  for (const [label, makeWrapper] of routes) {
    it(`follows a wrapper made through ${label}`, () => {
      const bytes = stream((b) => {
        makeWrapper(b);
        b.emptyDict().mark().unicode("shape").binInt1(8).tuple1().unicode("dtype");
        b.dtype("u1", 0);
        b.unicode("numpy_array_alignment_bytes").binInt1(16).setItems().build();
        b.raw(arrayBlock(bait, 0));
        b.global("os", "system").mark().string("id").tuple().reduce().pop();
      });
      const report = inspectBytes(bytes);
      expect(report.stats.numpyArrays).toBe(1);
      expect(report.verdict).toBe("unsafe");
      expect(names(report, "dangerous")).toEqual(["os.system"]);
      expect(report.reason).toBe("Imports a dangerous global: os.system.");
    });
  }

  it("takes wrapper attributes from NumpyArrayWrapper(...) called directly, alignment default included", () => {
    const bytes = stream((b) => {
      wrapperClass(b).mark().stackGlobal("numpy", "ndarray").binInt1(8).tuple1().unicode("C");
      b.dtype("u1", 0);
      b.tuple().reduce().emptyDict().build();
      b.raw(arrayBlock(bait, 2)); // __init__ defaults numpy_array_alignment_bytes to 16: a padding byte is read
      b.global("os", "system").mark().string("id").tuple().reduce().pop();
    });
    const report = inspectBytes(bytes);
    expect(report.stats.numpyArrays).toBe(1);
    expect(report.reason).toBe("Imports a dangerous global: os.system.");
  });

  it("judges a dtype as numpy does, at its BUILD, even if its fields dict is changed afterwards", () => {
    // A version-2 state: numpy recomputes hasobject from the fields once, in __setstate__.
    const bytes = stream((b) => {
      b.stackGlobal("numpy", "dtype").unicode("V8").bool(false).bool(true).tuple3().reduce().binPut(51);
      b.mark().binInt1(2).unicode("|").none().unicode("a").tuple1();
      b.emptyDict().binPut(50).unicode("a").dtype("f8", 0).binInt1(0).tuple2().setItem();
      b.binInt1(8).binInt1(1).tuple().build().pop();
      // Re-point field "a" at an object dtype: too late to change what numpy decided.
      b.binGet(50).unicode("a").dtype("O8", 63).binInt1(0).tuple2().setItem().pop();
      b.wrapper([1], (d) => d.binGet(51)).raw(arrayBlock(bait, 3));
      b.global("os", "system").mark().string("id").tuple().reduce().pop();
    });
    const report = inspectBytes(bytes);
    expect(report.stats.numpyArrays).toBe(1);
    expect(report.stats.nestedPickles).toBe(0);
    expect(report.reason).toBe("Imports a dangerous global: os.system.");
  });

  it("refuses a dtype whose pickled flags contradict its type (hasobject would depend on the numpy version)", () => {
    const bytes = stream((b) => b.wrapper([1], (d) => d.dtype("f8", 63)).raw(arrayBlock(new Uint8Array(8))));
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toMatch(/dtype flags say hasobject=true but its type says false/);
  });
});

describe("framing around inline arrays", () => {
  const data = new Uint8Array(16).fill(7);

  it("accepts a wrapper BUILD that ends its frame, as joblib writes it", () => {
    const bytes = pickle()
      .proto(4)
      .frameAround((f) => f.wrapper([2], (d) => d.dtype("f8", 0)))
      .raw(arrayBlock(data, 5))
      .stop()
      .bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.stats.numpyArrays).toBe(1);
  });

  it("refuses a wrapper BUILD with frame bytes still to come (joblib would read the array after the frame)", () => {
    const bytes = pickle()
      .proto(4)
      .frameAround((f) =>
        f
          .wrapper([2], (d) => d.dtype("f8", 0))
          .raw(arrayBlock(data, 5))
          .stop(),
      )
      .bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toMatch(/bytes of the current frame follow the wrapper/);
    expect(report.reason).toMatch(/BUILD at byte \d+/);
  });

  it("refuses a read straddling a frame boundary", () => {
    const bytes = pickle().proto(4).frame(3).unicode("abcdef").stop().bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toMatch(/crosses the end of the frame/);
  });

  it("refuses a frame that starts before the previous one ends, and frames past the end", () => {
    expect(inspectBytes(pickle().proto(4).frame(20).frame(1).none().stop().bytes()).reason).toMatch(
      /before the end of the current frame|overruns/,
    );
    expect(inspectBytes(pickle().proto(4).frame(1000).none().stop().bytes()).reason).toMatch(/frame of 1000 bytes overruns the stream/);
  });
});

describe("impossible arrays", () => {
  const cases: [string, number[], string, RegExp][] = [
    ["a negative dimension", [-1], "f8", /impossible dimension/],
    ["a shape that overflows", [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], "f8", /overflows/],
    ["more bytes than the stream holds", [1000], "f8", /overruns the stream/],
    ["a zero item size", [4], "V0", /item size 0/],
  ];
  for (const [label, shape, spec, reason] of cases) {
    it(`refuses ${label}`, () => {
      const elsize = spec === "V0" ? 0 : -1;
      const bytes = stream((b) => b.wrapper(shape, (d) => d.dtype(spec, 0, "|", elsize)).raw(arrayBlock(new Uint8Array(16))));
      const report = inspectBytes(bytes);
      expect(report.verdict).toBe("malformed");
      expect(report.reason).toMatch(reason);
    });
  }

  it("refuses dtype strings it cannot size", () => {
    const bytes = stream((b) => b.wrapper([1], (d) => d.dtype("f8,i4", 0)).raw(arrayBlock(new Uint8Array(16))));
    expect(inspectBytes(bytes).reason).toMatch(/unsupported dtype string/);
  });
});

describe("streams that break", () => {
  it("refuses reads from an undefined memo slot, with the offset", () => {
    const report = inspectBytes(pickle().proto(2).binGet(5).stop().bytes());
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toBe("Malformed pickle: BINGET at byte 2: memo key 5 is undefined.");
  });

  it("refuses trailing bytes after STOP", () => {
    const report = inspectBytes(pickle().proto(2).none().stop().raw("junk").bytes());
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toMatch(/4 trailing bytes after STOP at byte 3/);
  });

  it("refuses unknown opcodes, persistent IDs and out-of-band buffers", () => {
    expect(inspectBytes(pickle().proto(4).raw(0xff).bytes()).reason).toMatch(/unknown opcode 0xff/);
    expect(inspectBytes(pickle().raw("Pabc\n.").bytes()).reason).toMatch(/persistent IDs/);
    expect(inspectBytes(pickle().proto(4).none().raw("Q.").bytes()).reason).toMatch(/persistent IDs/);
    expect(inspectBytes(pickle().proto(5).raw(0x97, ".").bytes()).reason).toMatch(/out-of-band buffers/);
    expect(inspectBytes(pickle().proto(6).none().stop().bytes()).reason).toMatch(/unsupported pickle protocol 6/);
  });

  it("lists the imports seen before the break, and says both when one was dangerous", () => {
    const cut = pickle().proto(2).global("os", "system").mark().string("id").bytes();
    const report = inspectBytes(cut);
    expect(report.verdict).toBe("unsafe");
    expect(names(report)).toEqual(["os.system"]);
    expect(report.reason).toMatch(/^Imports a dangerous global: os\.system, and the file is malformed: .*truncated/);
  });

  it("reports malformed (not safe) when only allowed globals were seen before the break", () => {
    const report = inspectBytes(pickle().proto(2).global("collections", "OrderedDict").emptyTuple().bytes());
    expect(report.verdict).toBe("malformed");
    expect(names(report)).toEqual(["collections.OrderedDict"]);
  });

  it("enforces every resource limit", () => {
    const fixture = rawFixture(5);
    expect(inspectBytes(fixture, { maxOpcodes: 100 }).reason).toMatch(/more than 100 opcodes/);
    expect(inspectBytes(fixture, { maxMemoEntries: 10 }).reason).toMatch(/more than 10 memo entries/);
    expect(inspectBytes(fixture, { maxStackDepth: 8 }).reason).toMatch(/stack deeper than 8/);
    expect(inspectBytes(fixture, { maxStringBytes: 100 }).reason).toMatch(/more than 100 bytes of strings/);
    for (const limits of [{ maxOpcodes: 100 }, { maxMemoEntries: 10 }, { maxStackDepth: 8 }, { maxStringBytes: 100 }]) {
      expect(inspectBytes(fixture, limits).verdict).toBe("malformed");
    }
    expect(inspectBytes(fixture).verdict).toBe("safe");
  });

  it("treats pre-0.10 joblib layouts as unsupported", () => {
    const zf = new Uint8Array([0x5a, 0x46, 0x30, 0x78, 0x31, 0x30, 0x20, 0x78, 0x9c, 0x03, 0x00]);
    expect(inspectBytes(zf)).toMatchObject({ verdict: "unsupported", container: "legacy-zf" });
    const npy = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(inspectBytes(npy).verdict).toBe("unsupported");
    const legacy = pickle()
      .proto(2)
      .global("joblib.numpy_pickle", "NDArrayWrapper")
      .emptyTuple()
      .newObj()
      .emptyDict()
      .build()
      .stop()
      .bytes();
    const report = inspectBytes(legacy);
    expect(report.verdict).toBe("unsupported");
    expect(report.reason).toMatch(/older than 0\.10/);
  });

  it("refuses empty files and non-pickles", () => {
    expect(inspectBytes(new Uint8Array(0))).toMatchObject({ verdict: "malformed", reason: "The file is empty." });
    expect(inspectBytes(new TextEncoder().encode('{"json": true}'))).toMatchObject({ verdict: "malformed", container: "unknown" });
  });
});

describe("symbolic machine semantics", () => {
  it("reads protocol-0 text opcodes like CPython", () => {
    const bytes = pickle()
      .raw("(dp0\n")
      .raw("Vcat_cols\np1\n")
      .raw("(lp2\n")
      .raw("S'plan'\np3\na")
      .raw("S're\\x67ion'\np4\na")
      .raw("s")
      .raw("Vnum_cols\np5\n")
      .raw("(lp6\nV\\u00e9t\\u00e9\np7\nag3\nas.")
      .bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.protocol).toBe(0); // no PROTO opcode: the highest protocol among the opcodes used
    expect(report.schema.catCols).toEqual(["plan", "region"]);
    expect(report.schema.numCols).toEqual(["été", "plan"]);
  });

  it("reads a bare estimator built with copyreg._reconstructor (protocol 0/1)", () => {
    const bytes = pickle()
      .global("copy_reg", "_reconstructor")
      .mark()
      .global("sklearn.linear_model._logistic", "LogisticRegression")
      .global("__builtin__", "object")
      .none()
      .tuple()
      .reduce()
      .stop()
      .bytes();
    const report = inspectBytes(bytes);
    expect(report.verdict, report.reason).toBe("safe");
    expect(report.schema.modelClass).toBe("sklearn.linear_model._logistic.LogisticRegression");
    expect(report.schema.finalEstimator).toBe("sklearn.linear_model._logistic.LogisticRegression");
    expect(report.schema.keys).toBeNull();
  });

  it("pops the mark when POP meets an empty stack (CPython 3.11 behaviour)", () => {
    expect(inspectBytes(pickle().proto(2).mark().pop().none().stop().bytes()).verdict).toBe("safe");
    expect(inspectBytes(pickle().proto(2).pop().bytes()).reason).toMatch(/no MARK to pop/);
  });

  it("decodes LONG1 and big shapes exactly", () => {
    const bytes = stream((b) =>
      b
        .long1(-(2n ** 70n))
        .pop()
        .long1(255n)
        .pop()
        .none(),
    );
    expect(inspectBytes(bytes).verdict).toBe("safe");
  });
});
