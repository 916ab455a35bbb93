import { type DictValue, type DtypeResult, isSeq, type ObjValue, strText, type Value } from "./values";

export type { DtypeInfo, DtypeResult } from "./values";

interface SpecInfo {
  size: number;
  /** S/U/V/a: numpy takes the item size from the pickled state for these. */
  flexible: boolean;
  object: boolean;
}

// Single-character type codes as numpy on 64-bit Linux reads them (where joblib files are loaded).
const CHAR_CODES: Readonly<Record<string, SpecInfo>> = {
  "?": { size: 1, flexible: false, object: false },
  b: { size: 1, flexible: false, object: false },
  B: { size: 1, flexible: false, object: false },
  h: { size: 2, flexible: false, object: false },
  H: { size: 2, flexible: false, object: false },
  i: { size: 4, flexible: false, object: false },
  I: { size: 4, flexible: false, object: false },
  l: { size: 8, flexible: false, object: false },
  L: { size: 8, flexible: false, object: false },
  q: { size: 8, flexible: false, object: false },
  Q: { size: 8, flexible: false, object: false },
  p: { size: 8, flexible: false, object: false },
  P: { size: 8, flexible: false, object: false },
  e: { size: 2, flexible: false, object: false },
  f: { size: 4, flexible: false, object: false },
  d: { size: 8, flexible: false, object: false },
  g: { size: 16, flexible: false, object: false },
  F: { size: 8, flexible: false, object: false },
  D: { size: 16, flexible: false, object: false },
  G: { size: 32, flexible: false, object: false },
  O: { size: 8, flexible: false, object: true },
  c: { size: 1, flexible: false, object: false },
  M: { size: 8, flexible: false, object: false },
  m: { size: 8, flexible: false, object: false },
  S: { size: 0, flexible: true, object: false },
  a: { size: 0, flexible: true, object: false },
  U: { size: 0, flexible: true, object: false },
  V: { size: 0, flexible: true, object: false },
};

// Kind letter + byte count, the form numpy's dtype.__reduce__ always writes ("f8", "O8", "U5", "V64").
const SIZED_KINDS: Readonly<Record<string, readonly number[] | "any">> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 16],
  c: [8, 16, 32],
  O: [8],
  M: [8],
  m: [8],
  S: "any",
  a: "any",
  V: "any",
  U: "any",
};

const specCache = new Map<string, SpecInfo | null>();

/**
 * Parses a numpy dtype constructor string such as "f8", "<i4", "O8", "U5" or "M8[ns]". Pure.
 * Anything outside this grammar is refused rather than guessed.
 */
export function parseDtypeSpec(text: string): SpecInfo | null {
  const cached = specCache.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseSpecUncached(text);
  // Bounded: a hostile file could invent endless spellings.
  if (specCache.size < 1024) specCache.set(text, parsed);
  return parsed;
}

function parseSpecUncached(text: string): SpecInfo | null {
  const match = /^[<>|=]?([a-zA-Z?])(\d*)(\[[A-Za-z0-9]+\])?$/.exec(text);
  if (!match) return null;
  const kind = match[1] as string;
  const digits = match[2] as string;
  const unit = match[3];
  if (unit !== undefined && kind !== "M" && kind !== "m") return null;
  if (digits === "") return CHAR_CODES[kind] ?? null;
  const allowed = SIZED_KINDS[kind];
  if (allowed === undefined || digits.length > 10) return null;
  const n = Number(digits);
  if (n > 0x7fffffff) return null;
  if (allowed !== "any") {
    if (!allowed.includes(n)) return null;
    return { size: n, flexible: false, object: kind === "O" };
  }
  // U counts characters of 4 bytes each.
  return { size: kind === "U" ? n * 4 : n, flexible: true, object: false };
}

function fail(reason: string): DtypeResult {
  return { ok: false, reason };
}

function intOf(value: Value | undefined): number | null {
  if (value?.k === "int" && value.exact) return value.n;
  if (value?.k === "bool") return value.v ? 1 : 0;
  return null;
}

function isDtypeObject(value: Value | undefined): value is ObjValue {
  return value?.k === "obj" && value.callee.k === "global" && value.via === "call" && value.callee.role === "dtype";
}

function parsedSpec(value: ObjValue): SpecInfo | string {
  const spec = value.args && isSeq(value.args) ? value.args.items[0] : undefined;
  if (spec?.k !== "str") return "numpy.dtype(...) is not given a type string";
  const specText = strText(spec);
  return parseDtypeSpec(specText) ?? `unsupported dtype string ${JSON.stringify(specText.slice(0, 40))}`;
}

/**
 * Item size and object-ness of a symbolic numpy.dtype(...) value, as numpy saw it when its last
 * BUILD ran (see snapshotDtype). Pure.
 */
export function describeDtype(value: Value | undefined): DtypeResult {
  if (!isDtypeObject(value)) return fail("the dtype is not built by numpy.dtype(...)");
  if (value.dtype) return value.dtype;
  const parsed = parsedSpec(value);
  if (typeof parsed === "string") return fail(parsed);
  return { ok: true, info: { itemsize: parsed.size, hasObject: parsed.object } };
}

/**
 * Number of container entries snapshotDtype will walk for this BUILD state, so the caller can
 * charge the work. Pure.
 */
export function dtypeStateCost(state: Value): number {
  if (state.k !== "tuple") return 0;
  return state.items.reduce((sum, item) => sum + (item.k === "dict" ? item.entries.length : 0), 0);
}

/**
 * Records on a numpy.dtype(...) value what numpy's __setstate__ makes of its latest BUILD state.
 * Effects: sets value.dtype. It runs at BUILD time because numpy fixes hasobject then: containers
 * the state refers to may be mutated by later opcodes without changing the dtype.
 */
export function snapshotDtype(value: ObjValue): void {
  if (!isDtypeObject(value)) return;
  const parsed = parsedSpec(value);
  const state = value.states[value.states.length - 1];
  if (typeof parsed === "string") value.dtype = fail(parsed);
  else value.dtype = state === undefined ? describeDtype(value) : applyState(parsed, state);
}

/** Field dtypes of a fields dict as Python sees it (last assignment per name wins); null if not all names are str. */
function fieldDtypes(fields: DictValue): Value[] | null {
  const byName = new Map<string, Value>();
  for (let i = 0; i < fields.entries.length; i += 2) {
    const key = fields.entries[i] as Value;
    if (key.k !== "str") return null;
    const field = fields.entries[i + 1] as Value;
    if (!isSeq(field) || field.items.length < 2) return null;
    byName.set(strText(key), field.items[0] as Value);
  }
  return [...byName.values()];
}

/**
 * numpy's arraydescr_setstate, reduced to item size and hasobject. numpy takes hasobject from the
 * pickled flags (state version >= 3) or recomputes it from the type and fields (older versions);
 * other numpy releases short-cut builtin types. Where those readings could disagree we refuse,
 * because guessing wrong would make us skip bytes numpy unpickles (or the reverse).
 */
function applyState(parsed: SpecInfo, state: Value): DtypeResult {
  if (state.k !== "tuple") return fail("dtype state is not a tuple");
  const items = state.items;
  let version: number | null;
  let subarray: Value | undefined;
  let fields: Value | undefined;
  let names: Value | undefined;
  let elsize: number | null;
  // Tuples without a flags field leave numpy's flags at 0.
  let flags: number | null = 0;
  if (items.length === 9 || items.length === 8 || items.length === 7) {
    version = intOf(items[0]);
    subarray = items[2];
    names = items[3];
    fields = items[4];
    elsize = intOf(items[5]);
    if (items.length >= 8) flags = intOf(items[7]);
  } else if (items.length === 6) {
    version = intOf(items[0]);
    subarray = items[2];
    fields = items[3];
    elsize = intOf(items[4]);
  } else if (items.length === 5) {
    version = 0;
    subarray = items[1];
    fields = items[2];
    elsize = intOf(items[3]);
  } else {
    return fail(`dtype state has ${items.length} items`);
  }
  if (version === null || version < 0 || version > 4) return fail("dtype state has an unsupported version");
  if (elsize === null) return fail("dtype state has no integer item size");
  if (flags === null || flags < -128 || flags > 127) return fail("dtype flags are invalid");
  if (names !== undefined && version >= 2 && (names.k === "none") !== (fields?.k === "none")) {
    return fail("dtype names and fields disagree");
  }

  let subarrayObject = false;
  if (subarray !== undefined && subarray.k !== "none") {
    if (subarray.k !== "tuple" || subarray.items.length !== 2) return fail("dtype subarray is malformed");
    const base = describeDtype(subarray.items[0]);
    if (!base.ok) return base;
    subarrayObject = base.info.hasObject;
  }
  let fieldsObject = false;
  if (fields !== undefined && fields.k !== "none") {
    if (fields.k !== "dict") return fail("dtype fields are not a dict");
    const dtypes = fieldDtypes(fields);
    if (dtypes === null) return fail("dtype fields are malformed");
    for (const dtype of dtypes) {
      const sub = describeDtype(dtype);
      if (!sub.ok) return sub;
      fieldsObject ||= sub.info.hasObject;
    }
  }

  const byType = parsed.object || fieldsObject || subarrayObject;
  const numpyReading = version >= 3 ? (flags & 1) === 1 : parsed.object || fieldsObject;
  if (numpyReading !== byType) {
    return fail(`dtype flags say hasobject=${numpyReading} but its type says ${byType}`);
  }

  let itemsize = parsed.size;
  if (parsed.flexible) {
    // numpy takes the size of S/U/V types from the state; refuse when it contradicts the type string.
    if (elsize < 0 || (parsed.size > 0 && elsize !== parsed.size)) {
      return fail(`dtype item size ${elsize} contradicts its type string`);
    }
    itemsize = elsize;
  }
  return { ok: true, info: { itemsize, hasObject: byType } };
}
