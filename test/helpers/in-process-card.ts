import { DriverCardSession } from '../../src/card/card-session-impl.js';
import { ScHsmCard } from '../../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../../src/card/transport/in-process-transport.js';

/** The user PIN and SO-PIN of the engine's unit tests' in-process cards. */
export const USER_PIN = Buffer.from('648219');
export const SO_PIN = Buffer.from('3537363231383830', 'hex');

/**
 * An emulated SmartCard-HSM in this process (no PC/SC), initialised with USER_PIN and SO_PIN,
 * the user PIN verified: what the engine's unit tests sign with.
 */
export async function inProcessCard(label: string): Promise<DriverCardSession> {
  const s = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
  await s.initialize({ soPin: SO_PIN, userPin: USER_PIN, retries: 3, label });
  await s.verifyPin(USER_PIN);
  return s;
}
