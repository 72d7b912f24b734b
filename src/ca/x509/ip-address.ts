/**
 * IP addresses and CIDR prefixes as text and bytes (RFC 4291 §2.2 for IPv6 input, RFC 5952 for
 * output). Apart from extensions.ts, whose asn1-x509 imports the profile loader (it reads CIDRs
 * in name constraints) then loaded for every command (docs/benchmarks.md).
 */

/** Parse `a.b.c.d/n` or `v6::/n`; plain addresses get a full-length prefix. */
export function parseCidr(cidr: string): { bytes: Uint8Array; prefix: number } {
  const [addr, pfx] = cidr.split('/') as [string, string | undefined];
  const bytes = parseIp(addr);
  if (!bytes) throw new TypeError(`not an IP address: ${JSON.stringify(addr)}`);
  const max = bytes.length * 8;
  const prefix = pfx === undefined ? max : Number(pfx);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (pfx !== undefined && !/^\d+$/.test(pfx))) {
    throw new TypeError(`bad prefix length in ${JSON.stringify(cidr)}`);
  }
  return { bytes, prefix };
}

/** Parse a dotted-quad IPv4 or an RFC 4291 §2.2 IPv6 text address; undefined if invalid. */
export function parseIp(s: string): Uint8Array | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p, i) => p > 255 || (s.split('.')[i]!.length > 1 && s.split('.')[i]!.startsWith('0')))) return undefined;
    return Uint8Array.from(parts);
  }
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    if (s.indexOf('::', dbl + 1) >= 0) return undefined;
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
  }
  const groups = (x: string): number[] | undefined => {
    if (x === '') return [];
    const out: number[] = [];
    const gs = x.split(':');
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i]!;
      if (i === gs.length - 1 && g.includes('.')) {
        const v4 = parseIp(g);
        if (!v4 || v4.length !== 4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return undefined;
  const fill = 8 - h.length - t.length;
  if (dbl >= 0 ? fill < 1 : fill !== 0) return undefined;
  const all = [...h, ...new Array<number>(dbl >= 0 ? fill : 0).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Is `ip` (bytes) inside `cidr`? Address families must match. */
export function ipInCidr(ip: Uint8Array, cidr: string): boolean {
  const { bytes, prefix } = parseCidr(cidr);
  if (bytes.length !== ip.length) return false;
  for (let i = 0; i < prefix; i++) {
    const m = 0x80 >> (i & 7);
    if ((bytes[i >> 3]! & m) !== (ip[i >> 3]! & m)) return false;
  }
  return true;
}

export function ipToString(ip: Uint8Array): string {
  if (ip.length === 4) return Array.from(ip).join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((ip[i]! << 8) | ip[i + 1]!).toString(16));
  return g.join(':');
}

/** An address as text: IPv4 dotted, IPv6 in RFC 5952 form (the longest run of two or more zero groups as `::`). */
export function ipText(c: Uint8Array): string {
  const full = ipToString(c);
  if (c.length === 4) return full;
  const g = full.split(':');
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j;
  }
  return best < 0 ? full : `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

