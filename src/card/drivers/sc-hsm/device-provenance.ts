import { findTlv, readTlv } from '../../tlv.js';

/**
 * Where a SmartCard-HSM's device identity comes from. EF 2F02 holds the device CVC and its
 * issuer (DICA) CVC (card-protocols.md §3.1 file table); on a real card the chain ends at
 * CardContact's SRCA. cardca's emulator (src/card/emulator/cvc.ts `testDeviceIdentity`) signs
 * its chain with a throwaway root whose references all start with "DETEST" ("DETESTSRCA00001",
 * "DETESTDICA00001", serial "DETEST…"), so a card whose chain names one of them is emulated.
 * Returns the sentence that says how we know, or undefined for a card that does not show it.
 */
export const EMULATOR_REFERENCE_PREFIX = 'DETEST';

export function emulatedDeviceEvidence(ef2f02: Uint8Array | undefined): string | undefined {
  if (!ef2f02 || ef2f02.length === 0) return undefined;
  const refs: { chr?: string; car?: string }[] = [];
  const dec = new TextDecoder();
  try {
    for (let off = 0; off < ef2f02.length; ) {
      const t = readTlv(ef2f02, off);
      off = t.end;
      const cert = t.tag === 0x67 ? readTlv(t.value, 0) : t;
      if (cert.tag !== 0x7f21) continue;
      const body = findTlv(cert.value, 0x7f4e);
      if (!body) continue;
      const chr = findTlv(body, 0x5f20);
      const car = findTlv(body, 0x42);
      refs.push({ ...(chr ? { chr: dec.decode(chr) } : {}), ...(car ? { car: dec.decode(car) } : {}) });
    }
  } catch {
    /* a damaged 2F02 is not evidence either way; the serial read reports it */
  }
  const hit = refs.flatMap((r) => [r.car, r.chr]).find((x) => x?.startsWith(EMULATOR_REFERENCE_PREFIX));
  if (!hit) return undefined;
  const chain = refs.map((r) => `${r.chr ?? '?'} (issued by ${r.car ?? '?'})`).join(' ← ');
  return `its device certificate chain in EF 2F02 (${chain}) names ${hit}, a reference of the cardca emulator's throwaway test root, not CardContact's SRCA`;
}
