// A symbolic pickle virtual machine. It mirrors CPython's pickle._Unpickler (which joblib's
// NumpyUnpickler subclasses) opcode by opcode — stack, mark stack, memo, framing — but every call
// and import is only recorded, never performed. joblib's inline numpy blocks are skipped the way
// joblib's load_build override reads them.
import { classifyGlobal, isLegacyWrapperGlobal } from "./allowlist";
import { IMPORT_MAPPING, NAME_MAPPING } from "./compat-pickle";
import { describeDtype, dtypeStateCost, snapshotDtype } from "./numpy-dtype";
import { type ArgKind, OPCODE_BY_BYTE, type OpcodeSpec, type OpName } from "./opcodes";
import { asciiOnly, escapeDecode, isPyFloat, latin1, parsePyInt, pyFloatValue, rawUnicodeEscape, validUtf8Surrogatepass } from "./py-text";
import type { GlobalStatus, InspectLimits, PickleGlobal, TrustedGlobal } from "./types";
import {
  classOf,
  type DictValue,
  FALSE,
  FLOAT_NONZERO,
  FLOAT_ZERO,
  type GlobalRole,
  type GlobalValue,
  intValue,
  isSeq,
  NONE,
  type ObjValue,
  type SeqValue,
  type StrValue,
  strText,
  TRUE,
  truthy,
  type Value,
} from "./values";

/** A parse failure, with the stream offset of the opcode (or raw block) that caused it. */
export class PickleError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "PickleError";
  }
}

/** Counters and findings shared by the outer pickle and the nested object-array pickles. */
export interface MachineShared {
  readonly limits: InspectLimits;
  opcodes: number;
  /** Container entries walked on behalf of BUILD; bounded separately from opcodes. */
  work: number;
  stringBytes: number;
  numpyArrays: number;
  nestedPickles: number;
  /** Keyed by "module\0name" as written in the stream. */
  readonly globals: Map<string, PickleGlobal>;
  /** findClass results, keyed by rename regime and names. */
  readonly resolved: Map<string, ResolvedGlobal>;
  /** A pre-0.10 joblib wrapper was built: its data lives in companion files. */
  legacy: boolean;
  /** The registry's trust list, by "module.name". */
  readonly trusted: ReadonlyMap<string, TrustedGlobal>;
}

/** Creates the shared state for one inspection. Pure. */
export function newShared(limits: InspectLimits, trusted: ReadonlyMap<string, TrustedGlobal> = new Map()): MachineShared {
  return {
    limits,
    trusted,
    opcodes: 0,
    work: 0,
    stringBytes: 0,
    numpyArrays: 0,
    nestedPickles: 0,
    globals: new Map(),
    resolved: new Map(),
    legacy: false,
  };
}

export interface ResolvedGlobal {
  value: GlobalValue;
  record: PickleGlobal;
}

export interface MachineResult {
  root: Value;
  /** Offset just past STOP. */
  end: number;
  /** The first PROTO argument, or the highest opcode protocol when there is no PROTO. */
  protocol: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const STATUS_RANK: Readonly<Record<GlobalStatus, number>> = { allowed: 0, trusted: 1, unknown: 2, dangerous: 3 };
const INT64_MAX = 2 ** 63 - 1;
// Callables whose result the machine must know precisely, because joblib's BUILD override reacts
// to *any* NumpyArrayWrapper instance: ones that instantiate a class passed as their first argument
// ("reconstructor") and ones that can hand back an object they were given ("scalar", "identity").
// Every allowlisted callable was checked for these two behaviours; see allowlist.ts.
const ROLES: ReadonlyMap<string, GlobalRole> = new Map([
  ["joblib.numpy_pickle.NumpyArrayWrapper", "wrapper"],
  ["numpy.core.multiarray.scalar", "scalar"],
  ["numpy._core.multiarray.scalar", "scalar"],
  ["numpy.object_", "identity"],
  ["numpy.dtype", "dtype"],
  ["copyreg._reconstructor", "reconstructor"],
  ["copyreg.__newobj__", "reconstructor"],
  ["copyreg.__newobj_ex__", "reconstructor"],
  ["sklearn.neighbors._kd_tree.newObj", "reconstructor"],
  ["sklearn.neighbors._ball_tree.newObj", "reconstructor"],
  ["sklearn.metrics._dist_metrics.newObj", "reconstructor"],
  // _mareconstruct(subtype, ...) ends in subtype.__new__(subtype, ...): any class object will do.
  ["numpy.ma.core._mareconstruct", "reconstructor"],
]);

function roleOf(module: string, name: string): GlobalRole {
  const path = `${module}.${name}`;
  const role = ROLES.get(path);
  if (role !== undefined) return role;
  return isLegacyWrapperGlobal(module, name) ? "legacy-wrapper" : null;
}

function objValue(callee: Value, args: Value | null, via: "new" | "call", uncertain = false): ObjValue {
  return { k: "obj", callee, args, via, states: [], items: null, attrs: null, uncertain };
}

/**
 * One pickle stream. `joblib` turns on joblib's BUILD override (inline arrays); nested object-array
 * pickles are read by plain pickle.load, so they run with it off.
 */
export class PickleMachine {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** End offset of the current frame, or -1 outside frames. */
  frameEnd = -1;
  stack: Value[] = [];
  readonly metastack: Value[][] = [];
  /** Items held in the stacks saved on the metastack. */
  buried = 0;
  /** pickle's memo dict; a sparse array because keys are almost always 0, 1, 2... */
  readonly memo: (Value | undefined)[] = [];
  memoCount = 0;
  proto = 0;
  firstProto = -1;
  maxOpProto = 0;
  result: Value | null = null;
  /** Offset of the opcode being executed, for error messages. */
  opStart = 0;
  op: OpcodeSpec | null = null;
  // Decoded inline argument of the current opcode (see readArg).
  argNum = 0;
  argStart = 0;
  argEnd = 0;
  arg2Start = 0;
  arg2End = 0;

  constructor(
    buf: Uint8Array,
    start: number,
    readonly shared: MachineShared,
    readonly joblib: boolean,
    /** Torch-style payloads reference storages by persistent id: read them as opaque values. */
    readonly persistentIds = false,
  ) {
    this.buf = buf;
    this.pos = start;
    this.end = buf.length;
  }

  /** Executes opcodes until STOP. Throws PickleError on anything CPython would reject (and a bit more). */
  run(): MachineResult {
    const shared = this.shared;
    const maxOpcodes = shared.limits.maxOpcodes;
    while (this.result === null) {
      if (++shared.opcodes > maxOpcodes) {
        this.opStart = this.pos;
        this.fail(`resource limit: more than ${maxOpcodes} opcodes`);
      }
      this.opStart = this.pos;
      const code = this.buf[this.take(1)] as number;
      const spec = OPCODE_BY_BYTE[code];
      if (spec === undefined) this.fail(`unknown opcode 0x${code.toString(16).padStart(2, "0")}`);
      this.op = spec;
      if (spec.proto > this.maxOpProto) this.maxOpProto = spec.proto;
      if (spec.arg !== "none") this.readArg(spec.arg);
      (HANDLERS[code] as Handler)(this);
    }
    return { root: this.result, end: this.pos, protocol: this.firstProto >= 0 ? this.firstProto : this.maxOpProto };
  }

  fail(message: string): never {
    const where = this.op ? `${this.op.name} at byte ${this.opStart}` : `byte ${this.opStart}`;
    throw new PickleError(`${where}: ${message}`, this.opStart);
  }

  // --- reading, with _Unframer's rules -------------------------------------------------------

  /** Consumes n bytes and returns their offset. A read may not straddle a frame boundary. */
  take(n: number): number {
    const start = this.pos;
    if (this.frameEnd >= 0) {
      if (start === this.frameEnd) {
        // An exhausted frame falls through to the underlying file, exactly like _Unframer.read.
        if (n > 0) this.frameEnd = -1;
      } else if (n > this.frameEnd - start) {
        this.fail(`a ${n}-byte read crosses the end of the frame at byte ${this.frameEnd}`);
      }
    }
    if (n > this.end - start) {
      this.fail(`stream truncated: ${n} bytes needed, ${this.end - start} left`);
    }
    this.pos = start + n;
    return start;
  }

  /** Consumes a "\n"-terminated line; returns [start, end) without the newline via argStart/argEnd. */
  readLine(): [number, number] {
    let limit = this.end;
    if (this.frameEnd >= 0) {
      if (this.pos === this.frameEnd) this.frameEnd = -1;
      else limit = this.frameEnd;
    }
    const nl = this.buf.indexOf(0x0a, this.pos);
    if (nl < 0 || nl >= limit) {
      this.fail(limit === this.end ? "stream truncated inside a text argument" : "a text argument crosses the end of its frame");
    }
    const start = this.pos;
    this.pos = nl + 1;
    this.chargeStrings(nl - start);
    return [start, nl];
  }

  chargeStrings(n: number): void {
    this.shared.stringBytes += n;
    if (this.shared.stringBytes > this.shared.limits.maxStringBytes) {
      this.fail(`resource limit: more than ${this.shared.limits.maxStringBytes} bytes of strings`);
    }
  }

  u32(at: number): number {
    const b = this.buf;
    return ((b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16)) + (b[at + 3] as number) * 0x1000000;
  }

  readLength(n: number): void {
    this.chargeStrings(n);
    this.argStart = this.take(n);
    this.argEnd = this.argStart + n;
  }

  /** Decodes the current opcode's inline argument into argNum / argStart..argEnd / arg2Start..arg2End. */
  readArg(kind: ArgKind): void {
    const b = this.buf;
    switch (kind) {
      case "u1":
        this.argNum = b[this.take(1)] as number;
        return;
      case "u2": {
        const p = this.take(2);
        this.argNum = (b[p] as number) | ((b[p + 1] as number) << 8);
        return;
      }
      case "i4":
        this.argNum = this.u32(this.take(4)) | 0;
        return;
      case "u4":
        this.argNum = this.u32(this.take(4));
        return;
      case "u8": {
        const p = this.take(8);
        const hi = this.u32(p + 4);
        this.argNum = hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 0x100000000 + this.u32(p);
        return;
      }
      case "f8":
        this.argStart = this.take(8);
        return;
      case "line":
        [this.argStart, this.argEnd] = this.readLine();
        return;
      case "line2":
        [this.argStart, this.argEnd] = this.readLine();
        [this.arg2Start, this.arg2End] = this.readLine();
        return;
      case "len1":
        this.readLength(b[this.take(1)] as number);
        return;
      case "len4":
        this.readLength(this.u32(this.take(4)));
        return;
      case "slen4": {
        const n = this.u32(this.take(4)) | 0;
        if (n < 0) this.fail("negative byte count");
        this.readLength(n);
        return;
      }
      case "len8": {
        const p = this.take(8);
        const hi = this.u32(p + 4);
        if (hi >= 0x200000) this.fail("byte count exceeds the stream");
        this.readLength(hi * 0x100000000 + this.u32(p));
        return;
      }
      case "none":
        return;
    }
  }

  argText(): string {
    return latin1(this.buf, this.argStart, this.argEnd);
  }

  // --- stack ---------------------------------------------------------------------------------

  push(value: Value): void {
    if (this.buried + this.stack.length + this.metastack.length >= this.shared.limits.maxStackDepth) {
      this.fail(`resource limit: stack deeper than ${this.shared.limits.maxStackDepth}`);
    }
    this.stack.push(value);
  }

  pop(): Value {
    const value = this.stack.pop();
    if (value === undefined) this.fail("stack underflow");
    return value;
  }

  top(): Value {
    const value = this.stack[this.stack.length - 1];
    if (value === undefined) this.fail("stack underflow");
    return value;
  }

  /** Replaces the top n items by a tuple of them (TUPLE1/2/3); never deepens the stack. */
  tupleOfTop(n: number): void {
    const stack = this.stack;
    const at = stack.length - n;
    if (at < 0) this.fail("stack underflow");
    const items = stack.slice(at);
    stack.length = at + 1;
    stack[at] = { k: "tuple", items };
  }

  setTop(value: Value): void {
    if (this.stack.length === 0) this.fail("stack underflow");
    this.stack[this.stack.length - 1] = value;
  }

  mark(): void {
    if (this.buried + this.stack.length + this.metastack.length >= this.shared.limits.maxStackDepth) {
      this.fail(`resource limit: stack deeper than ${this.shared.limits.maxStackDepth}`);
    }
    this.metastack.push(this.stack);
    this.buried += this.stack.length;
    this.stack = [];
  }

  /** pickle's pop_mark: returns the items pushed since the last MARK. */
  popMark(): Value[] {
    const items = this.stack;
    const restored = this.metastack.pop();
    if (restored === undefined) this.fail("no MARK to pop");
    this.buried -= restored.length;
    this.stack = restored;
    return items;
  }

  memoPut(key: number, value: Value): void {
    if (this.memo[key] === undefined) {
      if (this.memoCount >= this.shared.limits.maxMemoEntries) {
        this.fail(`resource limit: more than ${this.shared.limits.maxMemoEntries} memo entries`);
      }
      this.memoCount++;
    }
    this.memo[key] = value;
  }

  memoGet(key: number): void {
    const value = this.memo[key];
    if (value === undefined) this.fail(`memo key ${key} is undefined`);
    this.push(value);
  }

  // --- strings -------------------------------------------------------------------------------

  pushUtf8(): void {
    if (!validUtf8Surrogatepass(this.buf, this.argStart, this.argEnd)) this.fail("string is not valid UTF-8");
    this.push({ k: "str", src: this.buf, start: this.argStart, end: this.argEnd, enc: "utf8", text: undefined });
  }

  /** 8-bit strings (BINSTRING) decode with the default "ASCII" encoding, strict. */
  pushAscii(): void {
    if (!asciiOnly(this.buf, this.argStart, this.argEnd)) {
      this.fail("8-bit string is not ASCII (Python 3 decodes it with the strict ASCII codec)");
    }
    this.push({ k: "str", src: this.buf, start: this.argStart, end: this.argEnd, enc: "ascii", text: undefined });
  }

  pushText(text: string): void {
    this.push({ k: "str", src: this.buf, start: 0, end: 0, enc: "text", text });
  }

  lineInt(base0: boolean): number {
    const parsed = parsePyInt(this.argText(), base0);
    if (parsed === null) this.fail("invalid integer literal");
    return parsed.exact ? parsed.n : Number.NaN;
  }

  // --- imports -------------------------------------------------------------------------------

  /**
   * pickle's find_class, minus the import. The pair is recorded as written in the stream (what
   * pickletools shows), but judged by what Python would really import after its 2->3 renames.
   */
  findClass(rawModule: string, rawName: string): GlobalValue {
    // Resolution depends only on the names and on whether the 2->3 renames apply: memoise it.
    const key = `${this.proto < 3 ? "2" : "3"}\0${rawModule}\0${rawName}`;
    let resolved = this.shared.resolved.get(key);
    if (resolved === undefined) {
      resolved = this.resolveGlobal(rawModule, rawName);
      this.shared.resolved.set(key, resolved);
    }
    if (!this.joblib) resolved.record.nested = true;
    return resolved.value;
  }

  resolveGlobal(rawModule: string, rawName: string): ResolvedGlobal {
    let module = rawModule;
    let name = rawName;
    if (this.proto < 3) {
      const renamed = NAME_MAPPING.get(`${module}\0${name}`);
      if (renamed) [module, name] = renamed;
      else module = IMPORT_MAPPING.get(module) ?? module;
    }
    let status = classifyGlobal(module, name);
    // The trust list only ever lifts "unknown": a name on the deny list stays dangerous whoever trusts it.
    const trust = status === "unknown" ? this.shared.trusted.get(`${module}.${name}`) : undefined;
    if (trust) status = "trusted";
    const rawKey = `${rawModule}\0${rawName}`;
    let record = this.shared.globals.get(rawKey);
    if (record === undefined) {
      record = { module: rawModule, name: rawName, status, nested: false };
      if (trust) record.trust = { by: trust.by, at: trust.at };
      this.shared.globals.set(rawKey, record);
    } else if (STATUS_RANK[status] > STATUS_RANK[record.status]) {
      // The same written name can mean two imports (before/after a PROTO change): keep the worse.
      record.status = status;
      if (trust) record.trust = { by: trust.by, at: trust.at };
      else delete record.trust;
    }
    return { value: { k: "global", module, name, role: roleOf(module, name) }, record };
  }

  // --- calls and BUILD -----------------------------------------------------------------------

  /** REDUCE: func(*args), with the callables that can return an existing object modelled. */
  call(func: Value, args: Value): Value {
    if (func.k !== "global") return objValue(func, args, "call", true);
    if (func.role === "identity") {
      // numpy.object_(obj) is obj itself.
      const only = isSeq(args) && args.items.length === 1 ? args.items[0] : undefined;
      return only ?? objValue(func, args, "call", true);
    }
    if (func.role === "scalar") {
      // scalar(dtype, obj) returns obj itself when the dtype holds Python objects.
      const dtype = isSeq(args) ? args.items[0] : undefined;
      const info = describeDtype(dtype);
      if (!info.ok) return objValue(func, args, "call", true);
      if (info.info.hasObject) {
        const item = isSeq(args) ? args.items[1] : undefined;
        return item ?? objValue(func, args, "call", true);
      }
    }
    return objValue(func, args, "call");
  }

  build(): void {
    const state = this.pop();
    const inst = this.top();
    if (inst.k === "obj") {
      const cls = classOf(inst);
      if (this.joblib) {
        if (cls?.role === "wrapper") {
          this.buildWrapper(inst, state);
          return;
        }
        if (cls?.role === "legacy-wrapper") {
          // joblib < 0.10: the array is np.load-ed from a companion file, nothing inline to skip.
          this.shared.legacy = true;
          this.setTop({ k: "opaque", why: "legacy joblib array" });
          return;
        }
        if (cls === null || inst.uncertain) {
          this.fail("cannot tell whether the BUILD target is a joblib array wrapper");
        }
      }
      inst.states.push(state);
      if (inst.callee.k === "global" && inst.callee.role === "dtype") {
        this.chargeWork(dtypeStateCost(state));
        snapshotDtype(inst);
      }
      return;
    }
    if (this.joblib && inst.k === "opaque") {
      this.fail("cannot tell whether the BUILD target is a joblib array wrapper");
    }
    // BUILD on a plain container: harmless (Python would fail or ignore it), so only the state is dropped.
  }

  /** Charges container entries walked on behalf of one opcode; bounded like the opcode count. */
  chargeWork(entries: number): void {
    this.shared.work += entries;
    if (this.shared.work > this.shared.limits.maxOpcodes * 4) this.fail("resource limit: too much BUILD work");
  }

  mergeAttrs(attrs: Map<string, Value>, state: Value, strictKeys: boolean): void {
    if (state.k !== "dict") this.fail("NumpyArrayWrapper state is not a dict");
    const entries = state.entries;
    this.chargeWork(entries.length);
    for (let i = 0; i < entries.length; i += 2) {
      const key = entries[i] as Value;
      if (key.k === "str") attrs.set(strText(key), entries[i + 1] as Value);
      else if (strictKeys) this.fail("NumpyArrayWrapper slot state has a non-str key");
    }
  }

  wrapperAttrs(inst: ObjValue): Map<string, Value> {
    if (inst.attrs) return inst.attrs;
    const attrs = new Map<string, Value>();
    inst.attrs = attrs;
    // Only a direct call runs __init__; __new__ paths (NEWOBJ, copyreg helpers) leave __dict__ empty.
    const direct = inst.callee.k === "global" && inst.callee.role === "wrapper";
    if (direct && inst.via === "call" && inst.args && isSeq(inst.args) && inst.args.items.length > 0) {
      // NumpyArrayWrapper(subclass, shape, order, dtype, allow_mmap=False, numpy_array_alignment_bytes=16)
      const a = inst.args.items;
      if (a.length < 4 || a.length > 6) this.fail("NumpyArrayWrapper() takes 4 to 6 arguments");
      const names = ["subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"];
      for (const [i, name] of names.entries()) attrs.set(name, a[i] ?? (i === 4 ? FALSE : intValue(16)));
    }
    return attrs;
  }

  /** joblib's load_build: set the wrapper's __dict__, then read the array bytes that follow BUILD. */
  buildWrapper(inst: ObjValue, rawState: Value): void {
    const attrs = this.wrapperAttrs(inst);
    let state = rawState;
    let slots: Value | null = null;
    if (state.k === "tuple" && state.items.length === 2) {
      [state, slots] = state.items as [Value, Value];
    }
    if (truthy(state)) this.mergeAttrs(attrs, state, false);
    if (slots && truthy(slots)) this.mergeAttrs(attrs, slots, true);

    // joblib commits the frame before writing array bytes and reads them from the file, not the frame.
    if (this.frameEnd >= 0) {
      if (this.pos !== this.frameEnd) {
        this.fail(
          `${this.frameEnd - this.pos} bytes of the current frame follow the wrapper; joblib would read the array from after the frame`,
        );
      }
      this.frameEnd = -1;
    }
    this.shared.numpyArrays++;
    this.setTop(this.readArray(attrs));
  }

  readArray(attrs: Map<string, Value>): Value {
    const shape = attrs.get("shape");
    const dtype = attrs.get("dtype");
    if (shape === undefined || dtype === undefined) this.fail("NumpyArrayWrapper has no shape or dtype");
    const described = describeDtype(dtype);
    if (!described.ok) this.fail(`NumpyArrayWrapper ${described.reason}`);
    const { itemsize, hasObject } = described.info;
    if (!isSeq(shape)) this.fail("NumpyArrayWrapper shape is not a tuple");
    let count = 1;
    for (const dim of shape.items) {
      if (dim.k !== "int" || !dim.exact || dim.n < 0 || dim.n > INT64_MAX) {
        this.fail("NumpyArrayWrapper shape holds an impossible dimension");
      }
      count = dim.n === 0 || count === 0 ? 0 : count * dim.n;
      if (count > MAX_SAFE) this.fail("NumpyArrayWrapper shape overflows");
    }
    if (hasObject) {
      this.readNestedPickle();
      return { k: "ndarray", itemsize, count, hasObject };
    }
    // read_array divides by the item size before reading anything.
    if (itemsize === 0) this.fail("NumpyArrayWrapper dtype has item size 0");
    if (attrs.has("numpy_array_alignment_bytes") && attrs.get("numpy_array_alignment_bytes")?.k !== "none") {
      const padding = this.buf[this.take(1)] as number;
      this.take(padding);
    }
    const left = this.end - this.pos;
    if (count > left / itemsize) {
      this.fail(`array of ${count} x ${itemsize}-byte items overruns the stream (${left} bytes left)`);
    }
    this.take(count * itemsize);
    return { k: "ndarray", itemsize, count, hasObject };
  }

  readNestedPickle(): void {
    this.shared.nestedPickles++;
    const nested = new PickleMachine(this.buf, this.pos, this.shared, false);
    try {
      const result = nested.run();
      this.pos = result.end;
    } catch (error) {
      if (error instanceof PickleError) {
        throw new PickleError(`nested object-array pickle at byte ${this.pos}: ${error.message}`, error.offset);
      }
      throw error;
    }
  }
}

type Handler = (m: PickleMachine) => void;

function appendTo(m: PickleMachine, target: Value, items: Value[]): void {
  if (target.k === "list") {
    for (const item of items) target.items.push(item);
  } else if (target.k === "obj") {
    target.items ??= [];
    for (const item of items) target.items.push(item);
  } else {
    m.fail(`cannot append to a ${target.k}`);
  }
}

function checkHashable(m: PickleMachine, key: Value): void {
  if (key.k === "list" || key.k === "dict" || key.k === "set") m.fail(`unhashable ${key.k} used as a key`);
}

function setItems(m: PickleMachine, target: Value, items: Value[]): void {
  if (items.length % 2 !== 0) m.fail("odd number of items for a dict");
  for (let i = 0; i < items.length; i += 2) checkHashable(m, items[i] as Value);
  if (target.k === "dict") {
    for (const item of items) target.entries.push(item);
  } else if (target.k === "obj") {
    target.items ??= [];
    for (const item of items) target.items.push(item);
  } else if (target.k !== "list") {
    m.fail(`cannot set items on a ${target.k}`);
  }
}

function seq(k: SeqValue["k"], items: Value[]): SeqValue {
  return { k, items };
}

function decodeLong(m: PickleMachine): Value {
  const { buf, argStart, argEnd } = m;
  const n = argEnd - argStart;
  if (n === 0) return intValue(0);
  let big = 0n;
  for (let i = argEnd - 1; i >= argStart; i--) big = (big << 8n) | BigInt(buf[i] as number);
  if (((buf[argEnd - 1] as number) & 0x80) !== 0) big -= 1n << BigInt(8 * n);
  const value = Number(big);
  return intValue(value, Number.isSafeInteger(value));
}

/** BINFLOAT's big-endian double is zero when every bit but the sign bit is clear. */
function float8IsZero(m: PickleMachine): boolean {
  const { buf, argStart } = m;
  if (((buf[argStart] as number) & 0x7f) !== 0) return false;
  for (let i = argStart + 1; i < argStart + 8; i++) if (buf[i] !== 0) return false;
  return true;
}

const BY_NAME: Record<OpName, Handler> = {
  // Integers and floats.
  INT: (m) => {
    const text = m.argText();
    if (text === "00") return m.push(FALSE);
    if (text === "01") return m.push(TRUE);
    const parsed = parsePyInt(text, true);
    if (parsed === null) return m.fail("invalid integer literal");
    m.push(intValue(parsed.n, parsed.exact));
  },
  BININT: (m) => m.push(intValue(m.argNum)),
  BININT1: (m) => m.push(intValue(m.argNum)),
  BININT2: (m) => m.push(intValue(m.argNum)),
  LONG: (m) => {
    let text = m.argText();
    if (text.endsWith("L")) text = text.slice(0, -1);
    const parsed = parsePyInt(text, true);
    if (parsed === null) return m.fail("invalid long literal");
    m.push(intValue(parsed.n, parsed.exact));
  },
  LONG1: (m) => m.push(decodeLong(m)),
  LONG4: (m) => m.push(decodeLong(m)),
  FLOAT: (m) => {
    const text = m.argText();
    if (!isPyFloat(text)) m.fail("invalid float literal");
    m.push(pyFloatValue(text) === 0 ? FLOAT_ZERO : FLOAT_NONZERO);
  },
  BINFLOAT: (m) => m.push(float8IsZero(m) ? FLOAT_ZERO : FLOAT_NONZERO),

  // Strings and bytes.
  STRING: (m) => {
    const raw = m.buf.subarray(m.argStart, m.argEnd);
    const q = raw[0];
    if (raw.length < 2 || q !== raw[raw.length - 1] || (q !== 0x22 && q !== 0x27)) {
      m.fail("the STRING opcode argument must be quoted");
    }
    const decoded = escapeDecode(raw.subarray(1, raw.length - 1));
    if (decoded === null) return m.fail("invalid escape in STRING");
    if (!asciiOnly(decoded, 0, decoded.length)) m.fail("8-bit string is not ASCII");
    m.pushText(latin1(decoded, 0, decoded.length));
  },
  BINSTRING: (m) => m.pushAscii(),
  SHORT_BINSTRING: (m) => m.pushAscii(),
  BINBYTES: (m) => m.push({ k: "bytes", length: m.argEnd - m.argStart, mutable: false }),
  SHORT_BINBYTES: (m) => m.push({ k: "bytes", length: m.argEnd - m.argStart, mutable: false }),
  BINBYTES8: (m) => m.push({ k: "bytes", length: m.argEnd - m.argStart, mutable: false }),
  BYTEARRAY8: (m) => m.push({ k: "bytes", length: m.argEnd - m.argStart, mutable: true }),
  NEXT_BUFFER: (m) => m.fail("out-of-band buffers are never supplied by joblib"),
  READONLY_BUFFER: (m) => {
    if (m.top().k !== "bytes") m.fail("READONLY_BUFFER needs a bytes-like object");
  },
  UNICODE: (m) => {
    const text = rawUnicodeEscape(m.buf, m.argStart, m.argEnd);
    if (text === null) return m.fail("invalid raw-unicode-escape text");
    m.pushText(text);
  },
  SHORT_BINUNICODE: (m) => m.pushUtf8(),
  BINUNICODE: (m) => m.pushUtf8(),
  BINUNICODE8: (m) => m.pushUtf8(),

  // Constants.
  NONE: (m) => m.push(NONE),
  NEWTRUE: (m) => m.push(TRUE),
  NEWFALSE: (m) => m.push(FALSE),

  // Containers.
  EMPTY_LIST: (m) => m.push(seq("list", [])),
  EMPTY_TUPLE: (m) => m.push(seq("tuple", [])),
  EMPTY_DICT: (m) => m.push({ k: "dict", entries: [] }),
  EMPTY_SET: (m) => m.push(seq("set", [])),
  APPEND: (m) => {
    const value = m.pop();
    appendTo(m, m.top(), [value]);
  },
  APPENDS: (m) => {
    const items = m.popMark();
    appendTo(m, m.top(), items);
  },
  LIST: (m) => m.push(seq("list", m.popMark())),
  TUPLE: (m) => m.push(seq("tuple", m.popMark())),
  TUPLE1: (m) => m.tupleOfTop(1),
  TUPLE2: (m) => m.tupleOfTop(2),
  TUPLE3: (m) => m.tupleOfTop(3),
  DICT: (m) => {
    const items = m.popMark();
    const dict: DictValue = { k: "dict", entries: [] };
    setItems(m, dict, items);
    m.push(dict);
  },
  SETITEM: (m) => {
    const value = m.pop();
    const key = m.pop();
    setItems(m, m.top(), [key, value]);
  },
  SETITEMS: (m) => {
    const items = m.popMark();
    setItems(m, m.top(), items);
  },
  ADDITEMS: (m) => {
    const items = m.popMark();
    const target = m.top();
    for (const item of items) checkHashable(m, item);
    if (target.k === "set") for (const item of items) target.items.push(item);
    else if (target.k === "obj") {
      target.items ??= [];
      for (const item of items) target.items.push(item);
    } else m.fail(`cannot add items to a ${target.k}`);
  },
  FROZENSET: (m) => {
    const items = m.popMark();
    for (const item of items) checkHashable(m, item);
    m.push(seq("frozenset", items));
  },

  // Stack manipulation.
  POP: (m) => {
    // CPython 3.11: POP on an empty stack pops the mark instead.
    if (m.stack.length > 0) m.stack.pop();
    else m.popMark();
  },
  DUP: (m) => m.push(m.top()),
  MARK: (m) => m.mark(),
  POP_MARK: (m) => {
    m.popMark();
  },

  // Memo.
  GET: (m) => m.memoGet(m.lineInt(false)),
  BINGET: (m) => m.memoGet(m.argNum),
  LONG_BINGET: (m) => m.memoGet(m.argNum),
  PUT: (m) => {
    const key = m.lineInt(false);
    if (!(key >= 0)) m.fail("negative or huge PUT argument");
    m.memoPut(key, m.top());
  },
  BINPUT: (m) => m.memoPut(m.argNum, m.top()),
  LONG_BINPUT: (m) => m.memoPut(m.argNum, m.top()),
  MEMOIZE: (m) => m.memoPut(m.memoCount, m.top()),

  // Imports.
  GLOBAL: (m) => {
    // load_global decodes with UTF-8 (strict), INST with ASCII.
    const module = utf8Text(m.buf, m.argStart, m.argEnd);
    const name = utf8Text(m.buf, m.arg2Start, m.arg2End);
    if (module === null || name === null) return m.fail("GLOBAL names are not valid UTF-8");
    m.push(m.findClass(module, name));
  },
  STACK_GLOBAL: (m) => {
    const name = m.pop();
    const module = m.pop();
    if (name.k !== "str" || module.k !== "str") m.fail("STACK_GLOBAL requires str");
    m.push(m.findClass(strText(module as StrValue), strText(name as StrValue)));
  },
  EXT1: (m) => ext(m),
  EXT2: (m) => ext(m),
  EXT4: (m) => ext(m),

  // Calls.
  REDUCE: (m) => {
    const args = m.pop();
    m.setTop(m.call(m.top(), args));
  },
  BUILD: (m) => m.build(),
  INST: (m) => {
    if (!asciiOnly(m.buf, m.argStart, m.argEnd) || !asciiOnly(m.buf, m.arg2Start, m.arg2End)) {
      m.fail("INST names are not ASCII");
    }
    const cls = m.findClass(m.argText(), latin1(m.buf, m.arg2Start, m.arg2End));
    instantiate(m, cls, m.popMark());
  },
  OBJ: (m) => {
    const args = m.popMark();
    const cls = args.shift();
    if (cls === undefined) return m.fail("OBJ without a class");
    instantiate(m, cls, args);
  },
  NEWOBJ: (m) => {
    const args = m.pop();
    const cls = m.pop();
    m.push(objValue(cls, args, "new"));
  },
  NEWOBJ_EX: (m) => {
    m.pop(); // kwargs go to __new__, which records nothing more
    const args = m.pop();
    const cls = m.pop();
    m.push(objValue(cls, args, "new"));
  },

  // Framing and control.
  PROTO: (m) => {
    if (m.argNum > 5) m.fail(`unsupported pickle protocol ${m.argNum}`);
    m.proto = m.argNum;
    if (m.firstProto < 0) m.firstProto = m.argNum;
  },
  FRAME: (m) => {
    if (m.frameEnd >= 0 && m.pos < m.frameEnd) m.fail("a new frame begins before the end of the current frame");
    if (m.argNum > m.end - m.pos) m.fail(`frame of ${m.argNum} bytes overruns the stream (${m.end - m.pos} bytes left)`);
    m.frameEnd = m.pos + m.argNum;
  },
  STOP: (m) => {
    m.result = m.pop();
  },
  PERSID: (m) => {
    if (!m.persistentIds) m.fail("persistent IDs are not used by joblib (no persistent_load exists)");
    m.push({ k: "opaque", why: "persistent id" });
  },
  BINPERSID: (m) => {
    if (!m.persistentIds) m.fail("persistent IDs are not used by joblib (no persistent_load exists)");
    m.setTop({ k: "opaque", why: "persistent id" });
  },
};

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8 text of src[start, end), or null where Python's strict decoder would raise. */
function utf8Text(src: Uint8Array, start: number, end: number): string | null {
  if (asciiOnly(src, start, end)) return latin1(src, start, end);
  try {
    return utf8Fatal.decode(src.subarray(start, end));
  } catch {
    return null;
  }
}

function ext(m: PickleMachine): void {
  // The copyreg extension registry is empty by default; a stream relying on it is importing by number.
  if (m.argNum <= 0) m.fail("EXT specifies code <= 0");
  const key = `copyreg.extension_registry\0${m.argNum}`;
  if (!m.shared.globals.has(key)) {
    m.shared.globals.set(key, { module: "copyreg.extension_registry", name: String(m.argNum), status: "unknown", nested: !m.joblib });
  }
  m.push({ k: "opaque", why: "copyreg extension" });
}

function instantiate(m: PickleMachine, cls: Value, args: Value[]): void {
  // _instantiate calls klass(*args) when there are args, else only klass.__new__(klass).
  m.push(objValue(cls, seq("tuple", args), args.length > 0 ? "call" : "new", cls.k !== "global"));
}

const HANDLERS: readonly (Handler | undefined)[] = (() => {
  const table: (Handler | undefined)[] = new Array(256).fill(undefined);
  for (let code = 0; code < 256; code++) {
    const spec = OPCODE_BY_BYTE[code];
    if (spec) table[code] = BY_NAME[spec.name];
  }
  return table;
})();
