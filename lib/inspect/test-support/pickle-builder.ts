// A tiny pickle assembler for tests: writes opcodes as raw bytes (nothing is ever unpickled).

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function u64(n: number): number[] {
  return [...u32(n % 0x100000000), ...u32(Math.floor(n / 0x100000000))];
}

const encoder = new TextEncoder();

export class PickleBuilder {
  private readonly out: number[] = [];

  /** Raw bytes (opcodes or joblib array data). */
  raw(...bytes: (number | Uint8Array | number[] | string)[]): this {
    for (const b of bytes) {
      if (typeof b === "number") this.out.push(b);
      else if (typeof b === "string") for (const c of encoder.encode(b)) this.out.push(c);
      else for (const c of b) this.out.push(c);
    }
    return this;
  }

  proto(n: number): this {
    return this.raw(0x80, n);
  }

  /** FRAME with an explicit length (use frameAround to compute it). */
  frame(length: number): this {
    return this.raw(0x95, ...u64(length));
  }

  /** FRAME wrapping everything `body` writes. */
  frameAround(body: (b: PickleBuilder) => void): this {
    const inner = new PickleBuilder();
    body(inner);
    const bytes = inner.bytes();
    return this.frame(bytes.length).raw(bytes);
  }

  global(module: string, name: string): this {
    return this.raw("c", module, "\n", name, "\n");
  }

  inst(module: string, name: string): this {
    return this.raw("i", module, "\n", name, "\n");
  }

  unicode(text: string): this {
    const bytes = encoder.encode(text);
    return bytes.length < 256 ? this.raw(0x8c, bytes.length, bytes) : this.raw("X", ...u32(bytes.length), bytes);
  }

  /** Protocol 0 STRING with single quotes (no escaping needed for the tests' texts). */
  string(text: string): this {
    return this.raw("S'", text, "'\n");
  }

  stackGlobal(module: string, name: string): this {
    return this.unicode(module).unicode(name).raw(0x93);
  }

  binInt1(n: number): this {
    return this.raw("K", n);
  }

  binInt(n: number): this {
    return this.raw("J", ...u32(n >>> 0));
  }

  long1(n: bigint): this {
    const bytes: number[] = [];
    let v = n;
    do {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    } while (v !== 0n && v !== -1n);
    if (n >= 0n && ((bytes[bytes.length - 1] as number) & 0x80) !== 0) bytes.push(0);
    if (n < 0n && ((bytes[bytes.length - 1] as number) & 0x80) === 0) bytes.push(0xff);
    return this.raw(0x8a, bytes.length, bytes);
  }

  none(): this {
    return this.raw("N");
  }

  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }

  mark(): this {
    return this.raw("(");
  }

  tuple(): this {
    return this.raw("t");
  }

  tuple1(): this {
    return this.raw(0x85);
  }

  tuple2(): this {
    return this.raw(0x86);
  }

  tuple3(): this {
    return this.raw(0x87);
  }

  emptyTuple(): this {
    return this.raw(")");
  }

  emptyDict(): this {
    return this.raw("}");
  }

  emptyList(): this {
    return this.raw("]");
  }

  setItem(): this {
    return this.raw("s");
  }

  setItems(): this {
    return this.raw("u");
  }

  appends(): this {
    return this.raw("e");
  }

  reduce(): this {
    return this.raw("R");
  }

  build(): this {
    return this.raw("b");
  }

  newObj(): this {
    return this.raw(0x81);
  }

  binPut(i: number): this {
    return this.raw("q", i);
  }

  binGet(i: number): this {
    return this.raw("h", i);
  }

  memoize(): this {
    return this.raw(0x94);
  }

  pop(): this {
    return this.raw("0");
  }

  stop(): this {
    return this.raw(".");
  }

  /** numpy.dtype(spec, False, True) with the version-3 state numpy writes. */
  dtype(spec: string, flags: number, endian = "<", elsize = -1): this {
    return this.stackGlobal("numpy", "dtype")
      .unicode(spec)
      .bool(false)
      .bool(true)
      .tuple3()
      .reduce()
      .mark()
      .binInt1(3)
      .unicode(endian)
      .none()
      .none()
      .none()
      .binInt(elsize)
      .binInt(-1)
      .binInt1(flags)
      .tuple()
      .build();
  }

  /**
   * A joblib NumpyArrayWrapper instance built the way joblib pickles it (NEWOBJ + state dict + BUILD).
   * The caller must append the array bytes (padding byte + padding + data, or a nested pickle) next.
   */
  wrapper(shape: number[], dtype: (b: PickleBuilder) => void, alignment: number | null = 16): this {
    this.stackGlobal("joblib.numpy_pickle", "NumpyArrayWrapper").emptyTuple().newObj().emptyDict().mark();
    this.unicode("subclass").stackGlobal("numpy", "ndarray");
    this.unicode("shape").mark();
    for (const dim of shape) dim >= 0 && dim < 256 ? this.binInt1(dim) : this.binInt(dim);
    this.tuple();
    this.unicode("order").unicode("C");
    this.unicode("dtype");
    dtype(this);
    this.unicode("allow_mmap").bool(false);
    if (alignment !== null) this.unicode("numpy_array_alignment_bytes").binInt1(alignment);
    return this.setItems().build();
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** A fresh builder. */
export function pickle(): PickleBuilder {
  return new PickleBuilder();
}

/** Raw array bytes as joblib writes them: padding-length byte, 0xff padding, then the data. */
export function arrayBlock(data: Uint8Array, padding = 0): Uint8Array {
  const out = new Uint8Array(1 + padding + data.length);
  out[0] = padding;
  out.fill(0xff, 1, 1 + padding);
  out.set(data, 1 + padding);
  return out;
}

/**
 * The registry's payload holding a team's own transformer class, as joblib's pickle writes it:
 * {"model": acme_features.Winsorizer(), "cat_cols": [], "num_cols": []}. For trust-list tests.
 */
export function acmeModelBytes(): Uint8Array {
  return pickle()
    .proto(4)
    .emptyDict()
    .mark()
    .unicode("model")
    .stackGlobal("acme_features", "Winsorizer")
    .emptyTuple()
    .newObj()
    .emptyDict()
    .build()
    .unicode("cat_cols")
    .emptyList()
    .unicode("num_cols")
    .emptyList()
    .setItems()
    .stop()
    .bytes();
}
