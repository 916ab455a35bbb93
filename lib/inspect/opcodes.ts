// The complete pickle opcode table (protocols 0-5), transcribed from CPython's Lib/pickletools.py.
// Only the argument *encoding* lives here; what each opcode does to the stack lives in pickle-machine.ts.

/**
 * How an opcode's inline argument is laid out after the opcode byte.
 * - u1/u2/i4/u4/u8: fixed-width little-endian integers; f8: big-endian double.
 * - line: bytes up to "\n"; line2: two such lines (GLOBAL, INST).
 * - len1/len4/slen4/len8: a length (uint8, uint32, int32 that must be >= 0, uint64) then that many bytes.
 */
export type ArgKind = "none" | "u1" | "u2" | "i4" | "u4" | "u8" | "f8" | "line" | "line2" | "len1" | "len4" | "slen4" | "len8";

export type OpName =
  | "INT"
  | "BININT"
  | "BININT1"
  | "BININT2"
  | "LONG"
  | "LONG1"
  | "LONG4"
  | "STRING"
  | "BINSTRING"
  | "SHORT_BINSTRING"
  | "BINBYTES"
  | "SHORT_BINBYTES"
  | "BINBYTES8"
  | "BYTEARRAY8"
  | "NEXT_BUFFER"
  | "READONLY_BUFFER"
  | "NONE"
  | "NEWTRUE"
  | "NEWFALSE"
  | "UNICODE"
  | "SHORT_BINUNICODE"
  | "BINUNICODE"
  | "BINUNICODE8"
  | "FLOAT"
  | "BINFLOAT"
  | "EMPTY_LIST"
  | "APPEND"
  | "APPENDS"
  | "LIST"
  | "EMPTY_TUPLE"
  | "TUPLE"
  | "TUPLE1"
  | "TUPLE2"
  | "TUPLE3"
  | "EMPTY_DICT"
  | "DICT"
  | "SETITEM"
  | "SETITEMS"
  | "EMPTY_SET"
  | "ADDITEMS"
  | "FROZENSET"
  | "POP"
  | "DUP"
  | "MARK"
  | "POP_MARK"
  | "GET"
  | "BINGET"
  | "LONG_BINGET"
  | "PUT"
  | "BINPUT"
  | "LONG_BINPUT"
  | "MEMOIZE"
  | "EXT1"
  | "EXT2"
  | "EXT4"
  | "GLOBAL"
  | "STACK_GLOBAL"
  | "REDUCE"
  | "BUILD"
  | "INST"
  | "OBJ"
  | "NEWOBJ"
  | "NEWOBJ_EX"
  | "PROTO"
  | "STOP"
  | "FRAME"
  | "PERSID"
  | "BINPERSID";

export interface OpcodeSpec {
  readonly code: number;
  readonly name: OpName;
  readonly arg: ArgKind;
  /** First protocol that defines the opcode (pickletools' "proto"). */
  readonly proto: number;
}

function op(char: string, name: OpName, arg: ArgKind, proto: number): OpcodeSpec {
  return { code: char.charCodeAt(0), name, arg, proto };
}

export const OPCODES: readonly OpcodeSpec[] = [
  op("I", "INT", "line", 0),
  op("J", "BININT", "i4", 1),
  op("K", "BININT1", "u1", 1),
  op("M", "BININT2", "u2", 1),
  op("L", "LONG", "line", 0),
  op("\x8a", "LONG1", "len1", 2),
  op("\x8b", "LONG4", "slen4", 2),
  op("S", "STRING", "line", 0),
  op("T", "BINSTRING", "slen4", 1),
  op("U", "SHORT_BINSTRING", "len1", 1),
  op("B", "BINBYTES", "len4", 3),
  op("C", "SHORT_BINBYTES", "len1", 3),
  op("\x8e", "BINBYTES8", "len8", 4),
  op("\x96", "BYTEARRAY8", "len8", 5),
  op("\x97", "NEXT_BUFFER", "none", 5),
  op("\x98", "READONLY_BUFFER", "none", 5),
  op("N", "NONE", "none", 0),
  op("\x88", "NEWTRUE", "none", 2),
  op("\x89", "NEWFALSE", "none", 2),
  op("V", "UNICODE", "line", 0),
  op("\x8c", "SHORT_BINUNICODE", "len1", 4),
  op("X", "BINUNICODE", "len4", 1),
  op("\x8d", "BINUNICODE8", "len8", 4),
  op("F", "FLOAT", "line", 0),
  op("G", "BINFLOAT", "f8", 1),
  op("]", "EMPTY_LIST", "none", 1),
  op("a", "APPEND", "none", 0),
  op("e", "APPENDS", "none", 1),
  op("l", "LIST", "none", 0),
  op(")", "EMPTY_TUPLE", "none", 1),
  op("t", "TUPLE", "none", 0),
  op("\x85", "TUPLE1", "none", 2),
  op("\x86", "TUPLE2", "none", 2),
  op("\x87", "TUPLE3", "none", 2),
  op("}", "EMPTY_DICT", "none", 1),
  op("d", "DICT", "none", 0),
  op("s", "SETITEM", "none", 0),
  op("u", "SETITEMS", "none", 1),
  op("\x8f", "EMPTY_SET", "none", 4),
  op("\x90", "ADDITEMS", "none", 4),
  op("\x91", "FROZENSET", "none", 4),
  op("0", "POP", "none", 0),
  op("2", "DUP", "none", 0),
  op("(", "MARK", "none", 0),
  op("1", "POP_MARK", "none", 1),
  op("g", "GET", "line", 0),
  op("h", "BINGET", "u1", 1),
  op("j", "LONG_BINGET", "u4", 1),
  op("p", "PUT", "line", 0),
  op("q", "BINPUT", "u1", 1),
  op("r", "LONG_BINPUT", "u4", 1),
  op("\x94", "MEMOIZE", "none", 4),
  op("\x82", "EXT1", "u1", 2),
  op("\x83", "EXT2", "u2", 2),
  op("\x84", "EXT4", "i4", 2),
  op("c", "GLOBAL", "line2", 0),
  op("\x93", "STACK_GLOBAL", "none", 4),
  op("R", "REDUCE", "none", 0),
  op("b", "BUILD", "none", 0),
  op("i", "INST", "line2", 0),
  op("o", "OBJ", "none", 1),
  op("\x81", "NEWOBJ", "none", 2),
  op("\x92", "NEWOBJ_EX", "none", 4),
  op("\x80", "PROTO", "u1", 2),
  op(".", "STOP", "none", 0),
  op("\x95", "FRAME", "u8", 4),
  op("P", "PERSID", "line", 0),
  op("Q", "BINPERSID", "none", 1),
];

/** Opcode byte -> spec; undefined for bytes that are not opcodes. */
export const OPCODE_BY_BYTE: readonly (OpcodeSpec | undefined)[] = (() => {
  const table: (OpcodeSpec | undefined)[] = new Array(256).fill(undefined);
  for (const spec of OPCODES) table[spec.code] = spec;
  return table;
})();
