// The PC/SC test rig itself (scripts/rig.sh, test/rig/reader.conf.d): pcscd shows the 8 vpcd
// readers under the names the suites rely on; a virtual card speaking the vpcd protocol
// (docs: shared/reference/pcsc-rig.md "vpcd wire protocol") on 127.0.0.2 is seen by PC/SC
// clients, gets APDUs through byte-exactly (short and 1 KiB extended), and its removal is seen;
// the quickack route that keeps APDUs fast is in place.
// Ports: 35969/35970 ("Virtual PCD 4 00 00/01"), this group's pair.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import pcsclite from 'pcsclite';

type Pcsc = ReturnType<typeof pcsclite>;
type Reader = Parameters<Parameters<Pcsc['on']>[1]>[0] & { name: string; close(): void };

const ALL_READERS = [
  'Virtual PCD 00 00', 'Virtual PCD 00 01', 'Virtual PCD 2 00 00', 'Virtual PCD 2 00 01',
  'Virtual PCD 3 00 00', 'Virtual PCD 3 00 01', 'Virtual PCD 4 00 00', 'Virtual PCD 4 00 01',
];
const PORT = 35969;
const READER = 'Virtual PCD 4 00 00';
// ATR: TS=3B, T0=80 (TD1 follows, no historical bytes), TD1=01 (T=1 only), TCK=81 (XOR of
// T0..TD1) — ISO 7816-3 §8.2.
const ATR = Buffer.from('3b800181', 'hex');
/** Guards against a hung rig; never a performance assertion. */
const WAIT_MS = 15_000;

/**
 * Minimal vpcd card: the TCP client side of the vpcd protocol. Answers GET ATR with `ATR` and
 * every APDU with the command bytes themselves followed by SW 9000 (an echo, so byte-exactness
 * is checkable in both directions).
 */
function startEchoCard(host: string, port: number): Promise<Socket> {
  return new Promise((resolveCard, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const send = (payload: Buffer): void => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(payload.length);
      sock.write(Buffer.concat([len, payload]));
    };
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const payload = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + payload.length);
        if (payload.length === 1) {
          if (payload[0] === 0x04) send(ATR); // 00 off, 01 on, 02 reset: no reply
        } else {
          send(Buffer.concat([payload, Buffer.from([0x90, 0x00])]));
        }
      }
    });
    sock.once('connect', () => resolveCard(sock));
    sock.once('error', reject);
  });
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Open PC/SC, collect readers as pcsclite announces them; `close()` releases everything. */
function openPcsc(): {
  readers: Map<string, Reader>;
  lastState: Map<string, number>;
  lastAtr: Map<string, Buffer | undefined>;
  next: (name: string) => Promise<Reader>;
  close: () => void;
} {
  const pcsc = pcsclite();
  const readers = new Map<string, Reader>();
  const waiters = new Map<string, (r: Reader) => void>();
  const lastState = new Map<string, number>();
  const lastAtr = new Map<string, Buffer | undefined>();
  pcsc.on('error', () => {}); // close() emits 'error'; without a listener the process dies
  pcsc.on('reader', (r) => {
    const reader = r as Reader;
    reader.on('error', () => {});
    // Track the latest state from events (pcsclite's get_status blocks without a connection).
    reader.on('status', (st) => {
      lastState.set(reader.name, st.state);
      lastAtr.set(reader.name, st.atr);
    });
    readers.set(reader.name, reader);
    waiters.get(reader.name)?.(reader);
  });
  return {
    readers,
    lastState,
    lastAtr,
    next: (name) => {
      const have = readers.get(name);
      if (have) return Promise.resolve(have);
      return withTimeout(new Promise<Reader>((res) => waiters.set(name, res)), `reader "${name}"`);
    },
    close: () => {
      for (const r of readers.values()) r.close();
      pcsc.close();
    },
  };
}

function waitForState(reader: Reader, want: 'present' | 'empty', last?: number): Promise<Buffer | undefined> {
  return withTimeout(
    new Promise((res) => {
      const onStatus = (s: { state: number; atr?: Buffer }): void => {
        const present = (s.state & reader.SCARD_STATE_PRESENT) !== 0;
        const empty = (s.state & reader.SCARD_STATE_EMPTY) !== 0;
        if ((want === 'present' && present) || (want === 'empty' && empty)) {
          reader.removeListener('status', onStatus);
          res(s.atr);
        }
      };
      reader.on('status', onStatus);
      if (last !== undefined) onStatus({ state: last });
    }),
    `card ${want} in "${reader.name}"`,
  );
}

// One PC/SC context for the whole file: pcsclite hangs the process when a second context is
// created after the first was closed.
let pc: ReturnType<typeof openPcsc>;
before(() => {
  pc = openPcsc();
});
after(() => pc.close());

test('pcscd shows the 8 vpcd readers of test/rig/reader.conf.d', async () => {
  await Promise.all(ALL_READERS.map((n) => pc.next(n)));
  const vpcd = [...pc.readers.keys()].filter((n) => n.startsWith('Virtual PCD')).sort();
  assert.deepEqual(vpcd, [...ALL_READERS].sort());
});

test('a vpcd card on 127.0.0.2 is seen, exchanges APDUs byte-exactly, and its removal is seen', async () => {
  let card: Socket | undefined;
  try {
    const reader = await pc.next(READER);
    card = await startEchoCard('127.0.0.2', PORT);
    const atr = await waitForState(reader, 'present');
    assert.deepEqual(atr, ATR);

    // The card is in its own reader only. vpcd keeps slot state in one static array per driver
    // instance, so readers sharing one libifdvpcd.so would all show this card (scripts/rig.sh
    // gives each reader.conf entry its own driver copy for that reason).
    await Promise.all(ALL_READERS.map((n) => pc.next(n)));
    for (const name of ALL_READERS.filter((n) => n !== READER)) {
      const other = pc.readers.get(name);
      assert.ok(other);
      // Other suites may have their own cards in other readers: only our ATR counts.
      const present = ((pc.lastState.get(name) ?? 0) & other.SCARD_STATE_PRESENT) !== 0;
      const atr = pc.lastAtr.get(name);
      assert.ok(!(present && atr && ATR.equals(atr)), `card on port ${PORT} also shows in "${name}"`);
    }

    const protocol = await withTimeout(
      new Promise<number>((res, rej) =>
        reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (err, p) => (err ? rej(err) : res(p)))),
      'SCardConnect',
    );
    const transmit = (cmd: Buffer): Promise<Buffer> =>
      withTimeout(
        new Promise((res, rej) => reader.transmit(cmd, 4096, protocol, (err, r) => (err ? rej(err) : res(r)))),
        'SCardTransmit',
      );

    // Short case-4 APDU (ISO 7816-4 §5.1): CLA INS P1 P2 Lc data Le.
    const short = Buffer.from('80ca9f7f0401020304' + '00', 'hex');
    assert.deepEqual(await transmit(short), Buffer.concat([short, Buffer.from('9000', 'hex')]));

    // Extended case-3 APDU with 1 KiB of data: 00 Lc(2) data (ISO 7816-4 §5.1, extended length).
    const data = Buffer.alloc(1024, 0).map((_, i) => i & 0xff);
    const ext = Buffer.concat([Buffer.from('80d6000000' + '0400', 'hex'), data]);
    assert.deepEqual(await transmit(ext), Buffer.concat([ext, Buffer.from('9000', 'hex')]));

    await withTimeout(
      new Promise<void>((res, rej) => reader.disconnect(reader.SCARD_LEAVE_CARD, (err) => (err ? rej(err) : res()))),
      'SCardDisconnect',
    );
    card.destroy();
    card = undefined;
    await waitForState(reader, 'empty', pc.lastState.get(READER));
  } finally {
    card?.destroy();
  }
});

test('the quickack route for 127.0.0.2 is installed (scripts/setup.sh)', () => {
  // Without it every APDU waits for the card side's delayed ACK (40+ ms): see pcsc-rig.md.
  const routes = execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' });
  const line = routes.split('\n').find((l) => l.startsWith('local 127.0.0.2 '));
  assert.ok(line, 'no local route for 127.0.0.2: run scripts/setup.sh');
  assert.match(line, /\bquickack 1\b/);
  assert.match(line, /\bsrc 127\.0\.0\.1\b/);
});
