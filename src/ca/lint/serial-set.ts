/**
 * A set of certificate serials (content octets, 1..20 bytes: RFC 5280 §4.1.2.2) for CRLs of a
 * million entries: the octets live in one growing byte buffer and an open-addressing table of
 * offsets indexes them, so a million serials take ≈ 30 MB instead of a million hex strings in a
 * `Set` (≈ 100 MB and slower). Exact: lookups compare the octets, never a hash alone.
 */
export class SerialSet {
  private data = new Uint8Array(1 << 16);
  private used = 0;
  /** Offset + 1 of `[len][octets]` in `data`; 0 = empty slot. */
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    if (expected > 0) this.data = new Uint8Array(Math.max(1 << 16, expected * 17));
  }

  /**
   * The set of a comma-separated list of upper- or lower-case hex serials (`0A12,7F01…`, what
   * SQLite's `group_concat(hex(serial), ',')` yields), decoded straight into the set's buffer: no object per serial.
   * Throws on a malformed list.
   */
  static fromHexList(hex: string, expected: number): SerialSet {
    const s = new SerialSet(expected);
    const digit = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1);
    let scratch = new Uint8Array(20);
    for (let i = 0; i < hex.length; ) {
      let j = hex.indexOf(',', i);
      if (j < 0) j = hex.length;
      const len = (j - i) / 2;
      if (!Number.isInteger(len) || len < 1 || len > 20) throw new Error(`serial list: item at ${i} is not 1..20 octets of hex`);
      for (let k = 0; k < len; k++) {
        const hi = digit(hex.charCodeAt(i + 2 * k));
        const lo = digit(hex.charCodeAt(i + 2 * k + 1));
        if (hi < 0 || lo < 0) throw new Error(`serial list: item at ${i} is not hex`);
        scratch[k] = (hi << 4) | lo;
      }
      s.addAt(scratch, 0, len);
      i = j + 1;
    }
    scratch = new Uint8Array(0);
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `serial`; false when it was already present. */
  add(serial: Uint8Array): boolean {
    return this.addAt(serial, 0, serial.length);
  }

  has(serial: Uint8Array): boolean {
    return this.hasAt(serial, 0, serial.length);
  }

  /** `add` of buf[start, end), without a subarray per call (a CRL walk calls it per entry). */
  addAt(buf: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    const slot = this.find(buf, start, end);
    if (this.table[slot] !== 0) return false;
    if (this.used + len + 1 > this.data.length) {
      const d = new Uint8Array(Math.max(this.data.length * 2, this.used + len + 1));
      d.set(this.data.subarray(0, this.used));
      this.data = d;
    }
    this.data[this.used] = len;
    this.data.set(buf.subarray(start, end), this.used + 1);
    this.table[slot] = this.used + 1;
    this.used += len + 1;
    this.count++;
    if (this.count * 2 > this.table.length) this.grow();
    return true;
  }

  hasAt(buf: Uint8Array, start: number, end: number): boolean {
    return this.table[this.find(buf, start, end)] !== 0;
  }

  private static hash(b: Uint8Array, start: number, end: number): number {
    // FNV-1a, 32 bit.
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h >>> 0;
  }

  /** The slot holding buf[start, end), or the empty slot where it would go. */
  private find(buf: Uint8Array, start: number, end: number): number {
    let i = SerialSet.hash(buf, start, end) & this.mask;
    for (;;) {
      const at = this.table[i]!;
      if (at === 0 || this.equalAt(at - 1, buf, start, end)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private equalAt(off: number, buf: Uint8Array, start: number, end: number): boolean {
    if (this.data[off] !== end - start) return false;
    for (let k = start, d = off + 1; k < end; k++, d++) if (this.data[d] !== buf[k]) return false;
    return true;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.table.length - 1;
    for (const at of old) {
      if (at === 0) continue;
      const len = this.data[at - 1]!;
      let i = SerialSet.hash(this.data, at, at + len) & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = at;
    }
  }
}
