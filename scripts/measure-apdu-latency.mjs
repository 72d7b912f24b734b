#!/usr/bin/env node
// Per-APDU round-trip latency through the real PC/SC stack (pcsclite → pcscd → vpcd → card).
//
//   node scripts/measure-apdu-latency.mjs [--card echo|emulator] [--host 127.0.0.2|127.0.0.1]
//        [--port 35969] [-n 200] [--apdu HEX]
//
// --card echo      a minimal in-process vpcd card answering every APDU with 9000 (isolates the
//                  transport: pcscd + vpcd + TCP; default)
// --card emulator  the project's SmartCard-HSM emulator (`ca emulator start`), APDU default:
//                  SELECT the SmartCard-HSM AID (E8 2B 06 01 04 01 81 C3 1F 02 01)
// --host           where the card connects to vpcd: 127.0.0.2 has the quickack route
//                  (scripts/setup.sh), 127.0.0.1 shows the delayed-ACK cost
// Prints median / p95 / min / max in ms. A measurement tool, not a test.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(repo, 'package.json'));
const pcsclite = require('pcsclite');

const READERS = {
  35963: 'Virtual PCD 00 00', 35964: 'Virtual PCD 00 01', 35965: 'Virtual PCD 2 00 00',
  35966: 'Virtual PCD 2 00 01', 35967: 'Virtual PCD 3 00 00', 35968: 'Virtual PCD 3 00 01',
  35969: 'Virtual PCD 4 00 00', 35970: 'Virtual PCD 4 00 01',
};

function args(argv) {
  const o = { card: 'echo', host: '127.0.0.2', port: 35969, n: 200, apdu: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--card') o.card = v();
    else if (a === '--host') o.host = v();
    else if (a === '--port') o.port = Number(v());
    else if (a === '-n') o.n = Number(v());
    else if (a === '--apdu') o.apdu = v();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!READERS[o.port]) throw new Error(`port ${o.port} is not a rig port (35963-35970)`);
  return o;
}

function echoCard(host, port) {
  const atr = Buffer.from('3b800181', 'hex'); // T=1 only, ISO 7816-3 §8.2
  const sock = connect({ host, port });
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const send = (p) => {
    const l = Buffer.alloc(2);
    l.writeUInt16BE(p.length);
    sock.write(Buffer.concat([l, p]));
  };
  sock.on('data', (c) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const p = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + p.length);
      if (p.length === 1) {
        if (p[0] === 0x04) send(atr);
      } else send(Buffer.from([0x90, 0x00]));
    }
  });
  sock.on('error', (e) => console.error('echo card:', e.message));
  return { ready: new Promise((res) => sock.once('connect', res)), stop: () => sock.destroy() };
}

function emulatorCard(host, port) {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-latency-'));
  const child = spawn(process.execPath, [join(repo, 'dist/src/cli/bin.js'), 'emulator', 'start',
    '--state', join(dir, 'card.json'), '--port', String(port), '--host', host],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const ready = new Promise((res, rej) => {
    const onData = (d) => {
      err += d;
      if (err.includes('emulator ready')) res();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      if (code) console.error(`emulator exited ${code}:\n${err}`);
      rej(new Error('emulator exited before it was ready'));
    });
  });
  return {
    ready,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
};

async function main() {
  const o = args(process.argv.slice(2));
  const readerName = READERS[o.port];
  const apdu = Buffer.from(o.apdu ?? (o.card === 'emulator' ? '00a4040c0be82b0601040181c31f0201' : '80ca000000'), 'hex');
  const card = o.card === 'emulator' ? emulatorCard(o.host, o.port) : echoCard(o.host, o.port);
  await card.ready; // the card is connected to vpcd before PC/SC looks at the reader
  const pcsc = pcsclite();
  pcsc.on('error', () => {});
  const readers = [];
  const done = (code) => {
    for (const r of readers) r.close();
    pcsc.close();
    card.stop();
    process.exitCode = code;
  };
  const guard = setTimeout(() => {
    console.error(`timed out after 60 s waiting for a card in "${readerName}"`);
    done(1);
  }, 60_000);
  pcsc.on('reader', (reader) => {
    readers.push(reader);
    reader.on('error', () => {});
    if (reader.name !== readerName) return;
    let started = false;
    reader.on('status', (s) => {
      if (started || !(s.state & reader.SCARD_STATE_PRESENT)) return;
      started = true;
      reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, async (err, protocol) => {
        if (err) {
          console.error('connect:', err.message);
          return done(1);
        }
        const tx = () => new Promise((res, rej) =>
          reader.transmit(apdu, 4096, protocol, (e, r) => (e ? rej(e) : res(r))));
        try {
          for (let i = 0; i < 10; i++) await tx(); // warm-up
          const times = [];
          let last;
          for (let i = 0; i < o.n; i++) {
            const t = process.hrtime.bigint();
            last = await tx();
            times.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
          const st = stat(times);
          const f = (x) => x.toFixed(3);
          console.log(`${o.card} card via ${o.host}:${o.port} ("${readerName}"), n=${o.n}, ` +
            `APDU ${apdu.toString('hex')} → SW ${last.subarray(-2).toString('hex')}: median ${f(st.median)} ms, ` +
            `p95 ${f(st.p95)} ms, min ${f(st.min)} ms, max ${f(st.max)} ms`);
          clearTimeout(guard);
          reader.disconnect(reader.SCARD_LEAVE_CARD, () => done(0));
        } catch (e) {
          console.error('transmit:', e.message);
          clearTimeout(guard);
          done(1);
        }
      });
    });
  });
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 2;
});
