import { createPublicKey, randomBytes, verify, constants } from 'node:crypto';
import { CaError } from '../../../ca/errors.js';
import { signatureAlgorithmInfo } from '../../../crypto/algorithms.js';
import type { Signer } from '../../../crypto/signer.js';

/**
 * Prove that a card key is the CA key: the card signs a fresh random challenge and the
 * signature verifies under the CA's recorded public key. Nothing is issued.
 */
export async function proveCaKey(signer: Signer, caPublicKey: Uint8Array): Promise<{ challenge: string; algorithm: string }> {
  if (!Buffer.from(signer.publicKey()).equals(Buffer.from(caPublicKey))) {
    throw new CaError('KEY_NOT_CA_KEY', 'the key on this card is not the CA key (its public key differs from the recorded one)', {
      hint: 'Use the backup of this CA, or the card bound to it (`ca status`).',
    });
  }
  const challenge = randomBytes(32);
  const alg = signer.algorithms()[0]!;
  const sig = await signer.sign(challenge, alg);
  const info = signatureAlgorithmInfo(alg);
  const key = createPublicKey({ key: Buffer.from(caPublicKey), format: 'der', type: 'spki' });
  const hash = info.hash.toLowerCase().replace('-', '');
  const ok =
    info.family === 'rsa-pss'
      ? verify(hash, challenge, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: info.hashLength }, sig)
      : verify(hash, challenge, key, sig);
  if (!ok) {
    throw new CaError('KEY_PROOF_FAILED', 'the card signed the challenge, but the signature does not verify under the CA public key', {
      hint: 'The card or the restored key is faulty; do not use this card for the CA.',
    });
  }
  return { challenge: challenge.toString('hex'), algorithm: alg };
}
