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

  get size(): number {
    return this.count;
  }

  /** Adds `serial`; false when it was already present. */
  add(serial: Uint8Array): boolean {
    const slot = this.find(serial);
    if (this.table[slot] !== 0) return false;
    if (this.used + serial.length + 1 > this.data.length) {
      const d = new Uint8Array(Math.max(this.data.length * 2, this.used + serial.length + 1));
      d.set(this.data.subarray(0, this.used));
      this.data = d;
    }
    this.data[this.used] = serial.length;
    this.data.set(serial, this.used + 1);
    this.table[slot] = this.used + 1;
    this.used += serial.length + 1;
    this.count++;
    if (this.count * 2 > this.table.length) this.grow();
    return true;
  }

  has(serial: Uint8Array): boolean {
    return this.table[this.find(serial)] !== 0;
  }

  private static hash(b: Uint8Array): number {
    // FNV-1a, 32 bit.
    let h = 0x811c9dc5;
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h >>> 0;
  }

  /** The slot holding `serial`, or the empty slot where it would go. */
  private find(serial: Uint8Array): number {
    let i = SerialSet.hash(serial) & this.mask;
    for (;;) {
      const at = this.table[i]!;
      if (at === 0 || this.equalAt(at - 1, serial)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private equalAt(off: number, serial: Uint8Array): boolean {
    if (this.data[off] !== serial.length) return false;
    for (let k = 0; k < serial.length; k++) if (this.data[off + 1 + k] !== serial[k]) return false;
    return true;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.table.length - 1;
    for (const at of old) {
      if (at === 0) continue;
      const len = this.data[at - 1]!;
      let i = SerialSet.hash(this.data.subarray(at, at + len)) & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = at;
    }
  }
}
