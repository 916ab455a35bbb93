/** Thrown by decoders for corrupt input; the message says what was wrong and where. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** Thrown when output would pass the size/ratio cap; decoding stops before allocating more. */
export class OutputLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputLimitError";
  }
}

/**
 * A growable output buffer with a hard cap. Decoders write through it so a bomb is refused as
 * soon as it crosses the cap, and the buffer never grows past the cap.
 */
export class BoundedOutput {
  buf: Uint8Array;
  length = 0;

  constructor(
    readonly cap: number,
    initial: number,
    private readonly capMessage: string,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(cap, initial)));
  }

  /** Makes room for n more bytes or throws OutputLimitError. */
  reserve(n: number): void {
    const needed = this.length + n;
    if (needed <= this.buf.length) return;
    if (needed > this.cap) throw new OutputLimitError(this.capMessage);
    let size = this.buf.length;
    while (size < needed) size *= 2;
    const next = new Uint8Array(Math.min(size, this.cap));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** LZ77 copy of n bytes from `distance` bytes back (distance >= 1; may overlap the output). */
  copyMatch(distance: number, n: number): void {
    this.reserve(n);
    const buf = this.buf;
    let from = this.length - distance;
    let to = this.length;
    if (distance >= n) {
      buf.copyWithin(to, from, from + n);
    } else {
      for (const end = to + n; to < end; ) buf[to++] = buf[from++] as number;
    }
    this.length += n;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
