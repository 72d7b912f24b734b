import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openscTokenInfo, pkcs15SlotLabel } from '../../../src/card/opensc-pkcs11-id.js';

test('PKCS#15 slot label as framework-pkcs15.c pkcs15_init_slot builds it', () => {
  assert.equal(pkcs15SlotLabel('Servers CA card', 'User PIN'), 'Servers CA card (User PIN)');
  assert.equal(pkcs15SlotLabel(undefined, 'User PIN'), 'User PIN');
  assert.equal(pkcs15SlotLabel('token', 'PIN'), 'token', 'a PIN labelled just "PIN" adds nothing');
  assert.equal(pkcs15SlotLabel('token', undefined), 'token');
  // The token label is cut so that "TOKEN (PIN)" fits 32 bytes.
  const long = pkcs15SlotLabel('A'.repeat(40), 'User PIN');
  assert.equal(long, `${'A'.repeat(21)} (User PIN)`);
  assert.equal(Buffer.byteLength(long), 32);
  assert.equal(pkcs15SlotLabel('x', 'P'.repeat(26)), 'P'.repeat(26), 'a PIN label that leaves no room: the PIN label alone');
  assert.equal(pkcs15SlotLabel('CA: servers', 'User PIN'), 'CA. servers (User PIN)', 'colons become dots');
});

test('MyEID token info: TokenInfo manufacturer, model "PKCS#15", the last 16 characters of the TokenInfo serial', () => {
  assert.deepEqual(openscTokenInfo({ driver: 'myeid', serial: 'E94C63E031748DBBC53F', tokenLabel: 'Servers CA card', manufacturer: 'Aventra Ltd.', tokenSerial: 'e94c63e031748dbbc53f', pinLabel: 'User PIN' }), {
    manufacturer: 'Aventra Ltd.',
    model: 'PKCS#15',
    serial: '63e031748dbbc53f',
    label: 'Servers CA card (User PIN)',
  });
});

test("pkcs11-helper's serialization escapes every character of its invalid set, including . , + - | `", async () => {
  const { serializePkcs11Id } = await import('../../../src/card/opensc-pkcs11-id.js');
  const id = serializePkcs11Id({ manufacturer: 'Aventra Ltd.', model: 'PKCS#15', serial: 'a-b+c', label: 'x,y|z`w' }, 'ab');
  assert.equal(id, 'Aventra\\x20Ltd\\x2E/PKCS\\x2315/a\\x2Db\\x2Bc/x\\x2Cy\\x7Cz\\x60w/AB');
});
