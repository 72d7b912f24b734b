import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand } from '../../../src/card/apdu/command-apdu.js';
import { md5Iterate } from '../../../src/card/dkek/md5-iterate.js';
import { combineShares, formatShare, isProbablePrime, parseShare, randomSafePrime64, randomSharedPassword, splitSecret } from '../../../src/card/dkek/shamir.js';
import { decryptShare, encryptShare, evpBytesToKeyMd5 } from '../../../src/card/dkek/share-file.js';
import { encodeWrapFile, parseWrapFile } from '../../../src/card/dkek/wrap-file.js';
import * as dk from '../../../src/card/drivers/sc-hsm-dkek-apdus.js';
import { initializeData } from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
import { aesCmac } from '../../../src/card/emulator/aes-cmac.js';
import { redactedCommandHex } from '../../../src/card/emulator/apdu-log.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

test('AES-256-CMAC: NIST SP 800-38B vectors (confirmed with openssl mac CMAC)', () => {
  const key = Buffer.from('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 'hex');
  assert.equal(hex(aesCmac(key, new Uint8Array(0))), '028962F61B7BF89EFC6B551F4667D983');
  assert.equal(hex(aesCmac(key, Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex'))), '28A7023F452E8F82BD4BF28D8C37C35C');
  assert.equal(hex(aesCmac(key, Buffer.from('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411', 'hex'))), 'AAF3D8F1DE5640C232F5B169B9C911E6');
});

test('md5Iterate equals repeated node MD5 (1, 2 and 5000 rounds)', () => {
  for (const n of [1, 2, 5000]) {
    let x = createHash('md5').update('pwd-and-salt').digest();
    for (let i = 1; i < n; i++) x = createHash('md5').update(x).digest();
    assert.equal(hex(md5Iterate(Buffer.from('pwd-and-salt'), n)), hex(x), `${n} rounds`);
  }
});

test('share file: with one round it is exactly `openssl enc -aes-256-cbc -md md5` (EVP_BytesToKey); wrong password refused', () => {
  const share = randomBytes(32);
  const salt = randomBytes(8);
  const file = encryptShare(share, Buffer.from('correct horse'), salt, { iterations: 1 });
  assert.equal(file.length, 64);
  assert.equal(Buffer.from(file.subarray(0, 8)).toString('latin1'), 'Salted__');
  const dir = mkdtempSync(join(tmpdir(), 'dkek-unit-'));
  writeFileSync(join(dir, 's.bin'), file);
  const out = execFileSync('openssl', ['enc', '-d', '-aes-256-cbc', '-md', 'md5', '-pass', 'pass:correct horse', '-in', join(dir, 's.bin')], { stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(hex(out), hex(share));
  assert.equal(hex(decryptShare(file, Buffer.from('correct horse'), { iterations: 1 })), hex(share));
  assert.throws(() => decryptShare(file, Buffer.from('wrong horse'), { iterations: 1 }), /does not decrypt/);
  assert.throws(() => decryptShare(file.subarray(0, 63), Buffer.from('x'), { iterations: 1 }), /63 bytes/);
  // The iteration count matters: D1 = MD5^n(pwd ‖ salt).
  const k1 = evpBytesToKeyMd5(Buffer.from('p'), salt, 1).key;
  const k2 = evpBytesToKeyMd5(Buffer.from('p'), salt, 2).key;
  assert.notEqual(hex(k1), hex(k2));
  assert.equal(hex(k2.subarray(0, 16)), hex(createHash('md5').update(createHash('md5').update(Buffer.concat([Buffer.from('p'), salt])).digest()).digest()));
});

test('threshold shares: 2-of-3 split, any two rebuild, one or a duplicate do not; printable round trip', () => {
  const p = randomSafePrime64();
  assert.ok(isProbablePrime(p) && isProbablePrime((p - 1n) / 2n));
  assert.equal(p.toString(2).length, 64);
  const pwd = randomSharedPassword();
  assert.equal(pwd.length, 8);
  assert.ok(pwd[0]! > 0 && pwd[0]! < 0x80);
  const shares = splitSecret(pwd, 2, 3, p).map((s) => parseShare(formatShare(s)));
  for (const pair of [[0, 1], [0, 2], [1, 2]]) assert.equal(hex(combineShares(pair.map((i) => shares[i]!))), hex(pwd));
  assert.throws(() => combineShares([shares[0]!]), /at least two/);
  assert.throws(() => combineShares([shares[0]!, shares[0]!]), /twice/);
  assert.match(formatShare(shares[0]!), /^cardca DKEK password share 1 of 3 \(any 2 rebuild the password\)\nPrime {7}: ([0-9A-F]{2}:){7}[0-9A-F]{2}\nShare ID {4}: 1\n/);
  // sc-hsm-tool's own screen (no cardca header) parses too.
  const s = parseShare(`Prime       : ${formatShare(shares[1]!).split('\n')[1]!.split(': ')[1]}\nShare ID    : 2\nShare value : ${formatShare(shares[1]!).split('\n')[3]!.split(': ')[1]}\n`);
  assert.equal(s.value, shares[1]!.value);
  const three = splitSecret(pwd, 3, 5, p);
  assert.equal(hex(combineShares([three[4]!, three[0]!, three[2]!])), hex(pwd));
  assert.notEqual(hex(combineShares([three[4]!, three[0]!].map((x) => ({ ...x, threshold: undefined })))), hex(pwd));
});

test('wrap file: 30 { 04 blob, PRKD, certificate } round trip; truncation and trailing bytes refused', () => {
  const blob = randomBytes(120);
  const prkd = Buffer.from('a0060c01410301ff', 'hex');
  const cert = Buffer.concat([Buffer.from([0x30, 0x03]), Buffer.from('abc')]);
  const f = encodeWrapFile({ blob, prkd, certificate: cert });
  assert.equal(f[0], 0x30);
  const back = parseWrapFile(f);
  assert.equal(hex(back.blob), hex(blob));
  assert.equal(hex(back.prkd!), hex(prkd));
  assert.equal(hex(back.certificate!), hex(cert));
  assert.throws(() => parseWrapFile(f.subarray(0, f.length - 1)), /DKEK_BACKUP_FILE_INVALID|truncated/);
  assert.throws(() => parseWrapFile(Buffer.concat([f, Buffer.of(0)])), /after the SEQUENCE/);
  assert.throws(() => parseWrapFile(encodeWrapFile({ blob: blob.subarray(0, 20), prkd: undefined, certificate: undefined })), /too short/);
});

test('DKEK APDUs are byte-exact as OpenSC sends them', () => {
  assert.equal(hex(encodeCommand(dk.dkekStatus())), '8052000000');
  assert.equal(hex(encodeCommand(dk.importDkekShare(new Uint8Array(32).fill(0xab)))), '8052000020' + 'AB'.repeat(32) + '00');
  assert.equal(hex(encodeCommand(dk.wrapKey(3))), '8072039200' + '0000');
  assert.equal(hex(encodeCommand(dk.unwrapKey(3))), '80740393');
  assert.deepEqual(dk.parseDkekStatus(Buffer.from('02011122334455667788', 'hex')), { shares: 2, missing: 1, kcv: '1122334455667788' });
  // A share never reaches the emulator's APDU log.
  assert.equal(redactedCommandHex(encodeCommand(dk.importDkekShare(new Uint8Array(32).fill(0xab)))), '80520000<redacted>');
  const init = initializeData(Buffer.from('648219'), Buffer.from('3537363231383830', 'hex'), 3, 2);
  assert.equal(hex(init.subarray(init.length - 3)), '920102');
  assert.equal(hex(initializeData(Buffer.from('648219'), Buffer.alloc(8), 3)).includes('9201'), false);
});
