/**
 * Issue 18 item 11: golden bytes from real SmartCard-HSM devices, not from our emulator.
 *
 * Sources (byte values only; cited per constant):
 *  - SRCA: the SmartCard-HSM scheme root CA CVC (CHR = CAR = DESRCACC100001), as published by
 *    CardContact in scsh-scripts `sc-hsm/lib/smartcardhsm.js` and copied into openkex/poc
 *    `cardio/smartcard-hsm/src/main/java/org/openkex/cardio/smartcardhsm/SmartCardHsm.java` (ROOT_CVC).
 *  - DICA and DEVICE: EF 2F02 content "read from card" of a real SmartCard-HSM, in openkex/poc
 *    `cardio/smartcard-hsm/src/test/java/org/openkex/cardio/smartcardhsm/test/SmartCardHsmSignTest.java`
 *    (DICA_CVC, DEVICE_CVC); device CHR DECM010444800000.
 *  - SECP256K1_TEMPLATE: the 7F49 public-key template with secp256k1 domain parameters a host sends
 *    in GENERATE ASYMMETRIC KEY PAIR, same SmartCardHsm.java (SECP256K1_STRING).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { chrOfFirstCvc, parseCvc } from '../../../src/card/drivers/sc-hsm/cv-request.js';
import { buildGakpFor } from '../../../src/card/drivers/sc-hsm/gakp.js';
import { curveByName } from '../../../src/crypto/ec-curves.js';
import { findTlv, readAllTlv, readTlv } from '../../../src/card/tlv.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const SRCA = hex(
  '7F218201B47F4E82016C5F290100420E44455352434143433130303030317F4982011D060A04007F0007' +
    '02020202038120A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E537782207D5A0975FC2C3057EEF' +
    '67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9832026DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCC' +
    'DC18FF8C07B68441048BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262547EF835C3DAC4FD97F' +
    '8461A14611DC9C27745132DED8E545C1D54C72F0469978520A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E' +
    '0E82974856A78641046D025A8026CDBA245F10DF1B72E9880FFF746DAB40A43A3D5C6BEBF27707C30F6DEA72430EE3287B066' +
    '5C1EAA6EAA4FA26C46303001983F82BD1AA31E03DA0628701015F200E44455352434143433130303030317F4C10060B2B0601' +
    '040181C31F0301015301C05F25060102010100095F24060302010100085F37409DBB382B1711D2BAACB0C623D40C6267D0B52' +
    'BA455C01F56333DC9554810B9B2878DAF9EC3ADA19C7B065D780D6C9C3C2ECEDFD78DEB18AF40778ADF89E861CA',
);
const DICA = hex(
  '7F2181E27F4E819B5F290100420E44455352434143433130303030317F494F060A04007F0007020202020386410431B01BA46' +
    '616F790631F690BBDE2F0D0AE86B8FDE0D4B6F658BC7641F73CDE7A3977BE99D1AD400A7472EAC0DDD7464DB27279A37F3906' +
    '6A8A0BA400E5EC0FF15F200D44454449434D303130303030327F4C10060B2B0601040181C31F0301015301805F25060106000' +
    '102085F24060204000102075F37400D316D796A95712B6BA26C4D4D1500E6CC84F281B7C70D05BA61ECB257D1268D0FDE8206' +
    '9B8E4F1CF888338600BFE55C393BFC3AB6FB30827B0B9C01A3D16C63',
);
const DEVICE = hex(
  '7F2181E47F4E819D5F290100420D44454449434D303130303030327F494F060A04007F000702020202038641044C968B29BC9' +
    '50EA61DFEF358231BBE7769623C7AADE12805BDDDE825FF135B7C74FF8C13A2756E6FD8F29BE1D19929513B66F5ADAE8FC6CF' +
    'F37FA9675E7E19385F20104445434D3031303434343830303030307F4C10060B2B0601040181C31F0301015301005F2506010' +
    '6000303015F24060204000102075F374030DB8A27F6AEA5685301C5E03392E8DCF1DB991C2662C24B07962A2913D3330F2DA0' +
    '0D448363C5AE08ACAD338C0CAA17E79E65E71D7B340A95C4E89532E9487F',
);
const SECP256K1_TEMPLATE = hex(
  '7F4981DA060A04007F00' +
    '0702020202038120FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' +
    'FFFFFFFEFFFFFC2F822000000000000000000000000000000000000000000000' +
    '0000000000000000000083200000000000000000000000000000000000000000' +
    '00000000000000000000000784410479BE667EF9DCBBAC55A06295CE870B0702' +
    '9BFCDB2DCE28D959F2815B16F81798483ADA7726A3C4655DA4FBFC0E1108A8FD' +
    '17B448A68554199C47D08FFB10D4B88520FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' +
    'FEBAAEDCE6AF48A03BBFD25E8CD0364141870101',
);

/** TR-03110-3 §C.1: the signature 5F37 covers the whole 7F4E body TLV; ECDSA in plain r ‖ s form. */
function signedBy(cvc: Uint8Array, issuerSpki: Uint8Array): boolean {
  const cert = readTlv(cvc, 0);
  const [body] = readAllTlv(cert.value);
  const bodyBytes = cert.value.subarray(0, body!.end);
  const sig = findTlv(cert.value, 0x5f37)!;
  return verify('sha256', bodyBytes, { key: createPublicKey({ key: Buffer.from(issuerSpki), format: 'der', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, sig);
}

test('the real SmartCard-HSM root CVC parses: brainpoolP256r1 named from its domain parameters, self-signed', () => {
  const root = parseCvc(SRCA);
  assert.equal(root.chr, 'DESRCACC100001');
  assert.equal(root.car, 'DESRCACC100001');
  assert.equal(root.keyType.type, 'brainpoolP256r1');
  assert.equal(root.algorithm, undefined, 'cardca does not sign with brainpool');
  assert.ok(signedBy(SRCA, root.spki));
});

test('a real device certificate chain (EF 2F02 = device CVC ‖ DICA CVC): serial, curve from the point alone, signatures', () => {
  const root = parseCvc(SRCA);
  const dica = parseCvc(DICA);
  const device = parseCvc(DEVICE);
  assert.deepEqual([dica.car, dica.chr], ['DESRCACC100001', 'DEDICM0100002']);
  assert.deepEqual([device.car, device.chr], ['DEDICM0100002', 'DECM010444800000']);
  // These templates carry no domain parameters (only OID and point 86): the point lies on brainpoolP256r1 only.
  assert.equal(dica.keyType.type, 'brainpoolP256r1');
  assert.equal(device.keyType.type, 'brainpoolP256r1');
  assert.ok(signedBy(DICA, root.spki), 'DICA signed by the root');
  assert.ok(signedBy(DEVICE, dica.spki), 'device signed by the DICA');
  const ef2f02 = Uint8Array.from([...DEVICE, ...DICA]);
  const chr = chrOfFirstCvc(ef2f02);
  // OpenSC sc_hsm_get_serialnr: the CHR minus its 5-character sequence number.
  assert.equal(chr.slice(0, -5), 'DECM0104448');
  // One flipped byte in the device signature: no longer verifies.
  const broken = Uint8Array.from(DEVICE);
  broken[broken.length - 1] ^= 0x01;
  assert.ok(!signedBy(broken, dica.spki));
});

test('buildGakp: the secp256k1 public-key template is byte for byte what a host sends a real card', () => {
  const gakp = buildGakpFor({ kind: 'ec', curve: curveByName('secp256k1')! }, 'UTCA00001', 'UTTM00001');
  const outer = readAllTlv(gakp);
  assert.deepEqual(outer.map((t) => t.tag.toString(16).toUpperCase()), ['5F29', '42', '7F49', '5F20']);
  const start = Buffer.from(gakp).indexOf(Buffer.from([0x7f, 0x49]));
  assert.equal(Buffer.from(gakp.subarray(start, outer[2]!.end)).toString('hex').toUpperCase(), Buffer.from(SECP256K1_TEMPLATE).toString('hex').toUpperCase());
  assert.equal(Buffer.from(gakp.subarray(0, start)).toString('hex').toUpperCase(), '5F290100' + '4209' + Buffer.from('UTCA00001').toString('hex').toUpperCase());
});
