import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { inspectBytes } from "./inspect";
import { rawFixture } from "./test-support/fixtures";
import { pickle } from "./test-support/pickle-builder";

// Containers joblib never writes are refused whatever they hold; the refusal names what their pickles import.

/** What torch.save writes into data.pkl: an OrderedDict of tensors rebuilt from persistent storages. */
function torchPayload(extra?: [string, string]): Uint8Array {
  const b = pickle()
    .proto(2)
    .global("collections", "OrderedDict")
    .emptyTuple()
    .reduce()
    .unicode("weight")
    .global("torch._utils", "_rebuild_tensor_v2")
    .mark()
    .mark()
    .unicode("storage")
    .global("torch", "FloatStorage")
    .unicode("0")
    .unicode("cpu")
    .binInt1(4)
    .tuple()
    .raw("Q") // BINPERSID
    .binInt1(0)
    .tuple()
    .reduce()
    .setItem();
  if (extra) b.unicode("x").global(extra[0], extra[1]).unicode("id").tuple1().reduce().setItem();
  return b.stop().bytes();
}

/** A zip archive with the given members, stored or deflated, as Python's zipfile writes it. */
function zip(members: [string, Uint8Array, "stored" | "deflate"][]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data, how] of members) {
    const body = how === "stored" ? Buffer.from(data) : zlib.deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(how === "stored" ? 0 : 8, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(how === "stored" ? 0 : 8, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

/** A .npy file of the given dtype whose data is `payload`. */
function npy(descr: string, payload: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`;
  header += `${" ".repeat(63 - ((10 + header.length) % 64))}\n`;
  const head = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return new Uint8Array(Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(payload)]));
}

const hostile = pickle().proto(2).global("posix", "system").unicode("id").tuple1().reduce().stop().bytes();

describe("a zip archive (PyTorch-style data.pkl)", () => {
  it.each(["stored", "deflate"] as const)("is refused as unsupported, naming what data.pkl imports (%s)", (how) => {
    const report = inspectBytes(
      zip([
        ["archive/data.pkl", torchPayload(), how],
        ["archive/data/0", new Uint8Array(16), "stored"],
        ["archive/version", new Uint8Array([0x33]), "stored"],
      ]),
    );
    expect(report.container).toBe("zip");
    expect(report.verdict).not.toBe("safe");
    expect(report.globals.map((g) => `${g.module}.${g.name}`)).toEqual([
      "collections.OrderedDict",
      "torch.FloatStorage",
      "torch._utils._rebuild_tensor_v2",
    ]);
    expect(report.reason).toMatch(/zip archive \(PyTorch-style\).*archive\/data\.pkl/);
    expect(report.reason).toMatch(/torch\._utils\._rebuild_tensor_v2/);
  });

  it("with a dangerous import is unsafe and names it", () => {
    const report = inspectBytes(zip([["archive/data.pkl", torchPayload(["posix", "system"]), "deflate"]]));
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.module === "posix")?.status).toBe("dangerous");
    expect(report.reason).toMatch(/dangerous global: posix\.system/);
  });

  it("with no pickle, or a broken directory, is still refused", () => {
    expect(inspectBytes(zip([["readme.txt", new Uint8Array([1, 2]), "stored"]])).verdict).toBe("unsupported");
    const broken = zip([["archive/data.pkl", torchPayload(), "stored"]]).slice(0, 40);
    expect(inspectBytes(broken).verdict).toBe("unsupported");
  });
});

describe("a .npy file", () => {
  it("of Python objects is refused, naming what its pickle imports", () => {
    const report = inspectBytes(npy("|O", hostile));
    expect(report.container).toBe("npy");
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.map((g) => `${g.module}.${g.name}:${g.status}`)).toEqual(["posix.system:dangerous"]);
  });

  it("of Python objects with only allowed imports is still refused (unsupported) and names them", () => {
    const payload = pickle().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().stop().bytes();
    const report = inspectBytes(npy("|O", payload));
    expect(report.verdict).toBe("unsupported");
    expect(report.reason).toMatch(/imports 1 global: collections\.OrderedDict/);
  });

  it("of numbers stays unsupported with no globals", () => {
    const report = inspectBytes(npy("<f8", new Uint8Array(8)));
    expect(report).toMatchObject({ verdict: "unsupported", globals: [] });
  });
});

describe("pickles written one after another", () => {
  it("a real model followed by a hostile pickle is unsafe and names the hostile import", () => {
    const first = rawFixture(5);
    const both = new Uint8Array([...first, ...hostile]);
    const report = inspectBytes(both);
    expect(report.verdict).toBe("unsafe");
    expect(report.globals.find((g) => g.module === "posix")).toMatchObject({ name: "system", status: "dangerous" });
    expect(report.reason).toMatch(/trailing bytes after STOP/);
  });

  it("two harmless pickles stay malformed", () => {
    const harmless = pickle().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().stop().bytes();
    const report = inspectBytes(new Uint8Array([...harmless, ...harmless]));
    expect(report.verdict).toBe("malformed");
    expect(report.globals.map((g) => g.name)).toEqual(["OrderedDict"]);
  });
});
