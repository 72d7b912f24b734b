import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import type { VirtualCard } from '../../../src/card/emulator/virtual-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { ScHsmDriver } from '../../../src/card/drivers/sc-hsm-driver.js';
import { buildGakpFor, type GakpKeySpec } from '../../../src/card/drivers/sc-hsm/gakp.js';
import * as cmd from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
import { encodePrivateKeyEntry } from '../../../src/card/pkcs15/prkdf.js';
import { intrinsicKeyId } from '../../../src/card/drivers/sc-hsm/key-discovery.js';
import { parseCvc } from '../../../src/card/drivers/sc-hsm/cv-request.js';

export const SO_PIN = Buffer.from('3537363231383830', 'hex');
export const USER_PIN = Buffer.from('648219');

export async function open(card: VirtualCard): Promise<DriverCardSession> {
  return DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }));
}

/** An initialised emulated card with the user PIN verified in the returned session. */
export async function readySession(card: VirtualCard = new ScHsmCard()): Promise<{ card: VirtualCard; session: DriverCardSession }> {
  const session = await open(card);
  await session.initialize({ soPin: SO_PIN, userPin: USER_PIN, retries: 3, label: 'truth' });
  await session.verifyPin(USER_PIN);
  return { card, session };
}

/**
 * Make a key the way another tool does (OpenSC pkcs15init sc-hsm: GAKP, CV request into CE xx,
 * PrKDF entry into C4 xx); `withFiles: false` stops after GAKP (an interrupted key generation).
 */
export async function foreignKey(session: DriverCardSession, keyRef: number, spec: GakpKeySpec, label: string, withFiles = true): Promise<Uint8Array> {
  const req = await session.channel.expectOk(cmd.generateKeyPair(keyRef, buildGakpFor(spec, 'UTCA00001', 'UTTM000000001')), 'GAKP');
  if (withFiles) {
    const driver = session.driver as ScHsmDriver;
    await driver.writeFile((cmd.FID_PREFIX.eeCertificate << 8) | keyRef, req);
    const { spki, keyType } = parseCvc(req);
    await driver.writeFile(
      (cmd.FID_PREFIX.prkd << 8) | keyRef,
      encodePrivateKeyEntry({ kind: spec.kind, label, id: intrinsicKeyId(spki), keyReference: keyRef, size: keyType.bits }),
    );
  }
  return req;
}

/** A VirtualCard in front of another that rewrites responses (a card that behaves differently). */
export class RewritingCard implements VirtualCard {
  constructor(readonly inner: VirtualCard, private readonly rewrite: (command: Uint8Array, response: Uint8Array) => Uint8Array) {}
  atr(): Uint8Array {
    return this.inner.atr();
  }
  powerOn(): void {
    this.inner.powerOn();
  }
  powerOff(): void {
    this.inner.powerOff();
  }
  reset(): void {
    this.inner.reset();
  }
  async process(command: Uint8Array): Promise<Uint8Array> {
    return this.rewrite(command, await this.inner.process(command));
  }
}
