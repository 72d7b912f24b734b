/**
 * Benchmark (not a test): APDUs to open a session and find a key, cardca vs OpenSC's
 * `pkcs11-tool --sign`, counted in the emulator's APDU log; and host-side time per signature
 * excluding card time.
 *
 * Run by `npm run bench` (bench/run.ts awaits the exported `run()`), or alone inside a PC/SC
 * rig with a free vpcd port: `node dist/bench/card-apdus.js [port]` (default 35964).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../test/helpers/emulator-process.js';
import { openscConfForOneReader } from './helpers/opensc-one-reader.js';
import { PcscCardService } from '../src/card/pcsc-card-service.js';
import { DriverCardSession } from '../src/card/card-session-impl.js';
import { ScHsmCard } from '../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../src/card/transport/in-process-transport.js';
import type { CardTransport, TransmitOptions } from '../src/card/transport/card-transport.js';
import type { KeyAlgorithm, SignatureAlgorithm } from '../src/crypto/signer.js';

const PIN = Buffer.from('648219');
const SO = Buffer.from('3537363231383830', 'hex');

function logLines(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

async function apduCounts(port: number): Promise<void> {
  const emu = await startEmulator({ port });
  const service = new PcscCardService();
  let keyId: string;
  let ours: number;
  try {
    const s = await service.open({ reader: emu.readerName });
    await s.initialize({ soPin: SO, userPin: PIN, retries: 3, label: 'bench' });
    await s.verifyPin(PIN);
    keyId = (await s.generateKey({ label: 'bench-p256', algorithm: 'p256' })).id;
    await s.close();

    const before = logLines(emu.apduLogFile);
    const s2 = await service.open({ reader: emu.readerName });
    await s2.verifyPin(PIN);
    const signer = await s2.signer(keyId);
    const afterFind = logLines(emu.apduLogFile);
    await signer.sign(Buffer.from('tbs'), 'ecdsa-sha256');
    const afterSign = logLines(emu.apduLogFile);
    await s2.close();
    ours = afterSign - before;
    console.log(`cardca: open session + verify PIN + find key = ${afterFind - before} APDUs; + 1 signature = ${ours} APDUs`);
  } finally {
    await service.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'cardca-bench-'));
  const hash = join(dir, 'hash');
  writeFileSync(hash, createHash('sha256').update('tbs').digest());
  const before = logLines(emu.apduLogFile);
  execFileSync('pkcs11-tool', ['--module', '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', '--slot-description', emu.readerName,
    '--login', '--pin', '648219', '--sign', '--id', keyId, '-m', 'ECDSA', '--input-file', hash, '--output-file', join(dir, 'sig')],
    // Only this card's reader: the rig's other readers hold other engineers' cards.
    { stdio: 'ignore', env: { ...process.env, OPENSC_CONF: openscConfForOneReader(dir, emu.readerName) } });
  const opensc = logLines(emu.apduLogFile) - before;
  console.log(`OpenSC pkcs11-tool --sign (one signature, whole run) = ${opensc} APDUs`);
  console.log(`ratio cardca/OpenSC APDUs for open + PIN + find key + 1 signature: ${(ours / opensc).toFixed(2)} (lower is better)`);
  await emu.stop();
}

/** Wraps a transport and accumulates the time spent inside the card exchange. */
class TimedTransport implements CardTransport {
  cardMs = 0;
  constructor(private readonly inner: CardTransport) {}
  get readerName(): string {
    return this.inner.readerName;
  }
  atr(): Uint8Array {
    return this.inner.atr();
  }
  async transmit(c: Uint8Array, o?: TransmitOptions): Promise<Uint8Array> {
    const t0 = performance.now();
    try {
      return await this.inner.transmit(c, o);
    } finally {
      this.cardMs += performance.now() - t0;
    }
  }
  exclusive<T>(fn: () => Promise<T>, o?: { timeoutMs?: number }): Promise<T> {
    return this.inner.exclusive(fn, o);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function hostTime(alg: KeyAlgorithm, sigAlg: SignatureAlgorithm, n: number): Promise<void> {
  const t = new TimedTransport(new InProcessTransport(new ScHsmCard()));
  const s = await DriverCardSession.open(t);
  await s.initialize({ soPin: SO, userPin: PIN, retries: 3, label: 'bench' });
  await s.verifyPin(PIN);
  const k = await s.generateKey({ label: 'b', algorithm: alg });
  const signer = await s.signer(k.id);
  const tbs = new Uint8Array(1200).fill(0x5a); // about the size of a TBSCertificate
  for (let i = 0; i < 5; i++) await signer.sign(tbs, sigAlg); // warm-up
  const host: number[] = [];
  for (let i = 0; i < n; i++) {
    const card0 = t.cardMs;
    const t0 = performance.now();
    await signer.sign(tbs, sigAlg);
    host.push(performance.now() - t0 - (t.cardMs - card0));
  }
  host.sort((a, b) => a - b);
  const med = host[Math.floor(n / 2)]!;
  const p95 = host[Math.floor(n * 0.95)]!;
  console.log(`host time per signature ${sigAlg} (${alg}): median ${med.toFixed(3)} ms, p95 ${p95.toFixed(3)} ms (n=${n}, card time excluded)`);
}

export async function run(port = 35964, pcsc = true): Promise<void> {
  await hostTime('p256', 'ecdsa-sha256', 200);
  await hostTime('p384', 'ecdsa-sha384', 200);
  await hostTime('rsa2048', 'rsa-pkcs1-sha256', 100);
  await hostTime('rsa2048', 'rsa-pss-sha256', 100);
  if (pcsc) await apduCounts(port);
}

if (process.argv[1]?.endsWith('card-apdus.js')) {
  run(Number(process.argv[2] ?? 35964), !process.argv.includes('--no-pcsc')).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
