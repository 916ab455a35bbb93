// Symbolic stand-ins for the Python objects a pickle would build. Nothing here is ever executed:
// calls and instantiations only record who would have been called with what.

/** What joblib's read_array needs from a dtype: how many bytes per item, and whether it pickles items. */
export interface DtypeInfo {
  itemsize: number;
  hasObject: boolean;
}

export type DtypeResult = { ok: true; info: DtypeInfo } | { ok: false; reason: string };

export interface NoneValue {
  readonly k: "none";
}
export interface BoolValue {
  readonly k: "bool";
  readonly v: boolean;
}
export interface IntValue {
  readonly k: "int";
  readonly n: number;
  /** False when the Python int does not fit a double exactly (|n| > 2^53). */
  readonly exact: boolean;
}
export interface FloatValue {
  readonly k: "float";
  /** 0 for a zero float, 1 for any other (NaN included): only truthiness is kept. */
  readonly v: 0 | 1;
}
/** A Python str, kept as a slice of the stream and decoded only when someone needs its text. */
export interface StrValue {
  readonly k: "str";
  readonly src: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** "utf8": validated UTF-8 (surrogatepass); "ascii": validated ASCII; "text": already decoded. */
  readonly enc: "utf8" | "ascii" | "text";
  text: string | undefined;
}
export interface BytesValue {
  readonly k: "bytes";
  readonly length: number;
  readonly mutable: boolean;
}
export interface SeqValue {
  readonly k: "tuple" | "list" | "set" | "frozenset";
  readonly items: Value[];
}
export interface DictValue {
  readonly k: "dict";
  /** Flat key, value, key, value... in assignment order (duplicates kept; last one wins on lookup). */
  readonly entries: Value[];
}
/** Globals the machine itself must recognise, resolved once when the global is imported. */
export type GlobalRole = "wrapper" | "legacy-wrapper" | "scalar" | "identity" | "dtype" | "reconstructor" | null;

export interface GlobalValue {
  readonly k: "global";
  readonly module: string;
  readonly name: string;
  readonly role: GlobalRole;
}
/** The result of calling or instantiating something. */
export interface ObjValue {
  readonly k: "obj";
  readonly callee: Value;
  readonly args: Value | null;
  /** "new": cls.__new__ only (NEWOBJ, argument-less INST/OBJ); "call": callee(*args) (REDUCE, INST/OBJ with args). */
  readonly via: "new" | "call";
  /** Every BUILD state applied to it, in order. */
  readonly states: Value[];
  /** Items added by APPEND(S)/SETITEM(S)/ADDITEMS when the object acts as a container. */
  items: Value[] | null;
  /** Attribute dict, tracked only for joblib array wrappers. */
  attrs: Map<string, Value> | null;
  /** True when an allowlisted callable might have returned an existing object we cannot identify. */
  readonly uncertain: boolean;
  /** For numpy.dtype(...) values: what numpy made of the latest BUILD state (see snapshotDtype). */
  dtype?: DtypeResult;
}
/** What joblib puts on the stack after reading an inline array. */
export interface ArrayValue {
  readonly k: "ndarray";
  readonly itemsize: number;
  readonly count: number;
  readonly hasObject: boolean;
}
export interface OpaqueValue {
  readonly k: "opaque";
  readonly why: string;
}

export type Value =
  | NoneValue
  | BoolValue
  | IntValue
  | FloatValue
  | StrValue
  | BytesValue
  | SeqValue
  | DictValue
  | GlobalValue
  | ObjValue
  | ArrayValue
  | OpaqueValue;

export const NONE: NoneValue = Object.freeze({ k: "none" });
// Floats only ever matter for truthiness, so two shared values avoid an allocation per float.
export const FLOAT_ZERO: FloatValue = Object.freeze({ k: "float", v: 0 });
export const FLOAT_NONZERO: FloatValue = Object.freeze({ k: "float", v: 1 });
export const TRUE: BoolValue = Object.freeze({ k: "bool", v: true });
export const FALSE: BoolValue = Object.freeze({ k: "bool", v: false });

const SMALL_INTS: readonly IntValue[] = Array.from({ length: 256 }, (_, n) => Object.freeze({ k: "int", n, exact: true }));

/** Interned small ints: BININT1 is the most common opcode after strings. Pure. */
export function intValue(n: number, exact = Number.isSafeInteger(n)): IntValue {
  if (exact && n >= 0 && n < 256) return SMALL_INTS[n] as IntValue;
  return { k: "int", n, exact };
}

const utf8 = new TextDecoder("utf-8");

/** The text of a str value, decoded once and cached on the value. */
export function strText(value: StrValue): string {
  if (value.text !== undefined) return value.text;
  const { src, start, end } = value;
  let text = "";
  // Names and column labels are short ASCII: build them directly, skipping a native decoder call.
  if (end - start <= 64) {
    for (let i = start; i < end; i++) {
      const c = src[i] as number;
      if (c >= 0x80) {
        text = "";
        break;
      }
      text += String.fromCharCode(c);
    }
    if (text.length === end - start) {
      value.text = text;
      return text;
    }
  }
  // Both encodings were validated when the string was pushed; ASCII is a subset of UTF-8.
  value.text = utf8.decode(src.subarray(start, end));
  return value.text;
}

/** Python truthiness, where we can know it (objects are assumed truthy). Pure. */
export function truthy(value: Value): boolean {
  switch (value.k) {
    case "none":
      return false;
    case "bool":
      return value.v;
    case "int":
      return value.n !== 0;
    case "float":
      return value.v !== 0;
    case "str":
      return value.text !== undefined ? value.text.length > 0 : value.end > value.start;
    case "bytes":
      return value.length > 0;
    case "tuple":
    case "list":
    case "set":
    case "frozenset":
      return value.items.length > 0;
    case "dict":
      return value.entries.length > 0;
    default:
      return true;
  }
}

/** "module.name" of a global value. Pure. */
export function globalPath(value: GlobalValue): string {
  return `${value.module}.${value.name}`;
}

/**
 * The class an object was built from: the NEWOBJ/REDUCE target, seeing through copyreg helpers
 * (protocol 0/1 pickles build instances with copyreg._reconstructor(cls, base, state)). Pure.
 */
export function classOf(value: ObjValue): GlobalValue | null {
  const callee = value.callee;
  if (callee.k !== "global") return null;
  if (value.via === "call" && callee.role === "reconstructor") {
    const first = value.args && isSeq(value.args) ? value.args.items[0] : undefined;
    return first?.k === "global" ? first : null;
  }
  return callee;
}

/** True for tuple/list values. Pure. */
export function isSeq(value: Value): value is SeqValue {
  return value.k === "tuple" || value.k === "list";
}

/** Last value stored under a str key in a dict value, or undefined. Pure apart from decoding caches. */
export function dictGet(dict: DictValue, key: string): Value | undefined {
  const entries = dict.entries;
  for (let i = entries.length - 2; i >= 0; i -= 2) {
    const k = entries[i] as Value;
    if (k.k === "str" && strText(k) === key) return entries[i + 1];
  }
  return undefined;
}

/** The str keys of a dict in first-insertion order, like Python's dict. Pure apart from decoding caches. */
export function dictStrKeys(dict: DictValue): string[] {
  const seen = new Set<string>();
  const keys: string[] = [];
  for (let i = 0; i < dict.entries.length; i += 2) {
    const k = dict.entries[i] as Value;
    if (k.k !== "str") continue;
    const text = strText(k);
    if (!seen.has(text)) {
      seen.add(text);
      keys.push(text);
    }
  }
  return keys;
}

/** The strings of a list/tuple of str, or null if any item is not a str. Pure apart from decoding caches. */
export function stringList(value: Value | undefined): string[] | null {
  if (!value || !isSeq(value)) return null;
  const out: string[] = [];
  for (const item of value.items) {
    if (item.k !== "str") return null;
    out.push(strText(item));
  }
  return out;
}
