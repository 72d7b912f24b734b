import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertKeyCanBeBackedUp } from '../../../src/cli/commands/key/ceremony-backup-guard.js';
import type { CliContext } from '../../../src/cli/context.js';
import type { DriverCardSession } from '../../../src/card/card-session-impl.js';
import type { CaStore } from '../../../src/ca/store.js';
import { driverCapabilities } from '../../../src/card/drivers/driver-capabilities.js';
import { MyeidDriver } from '../../../src/card/drivers/myeid/myeid-driver.js';
import type { ApduChannel } from '../../../src/card/apdu/apdu-channel.js';

const ctx = {} as CliContext;
const store = {} as CaStore;

/** A session whose only card access is `exclusive` (what the DKEK status read goes through). */
function session(name: string, dkekBackup: boolean): { s: DriverCardSession; reads: () => number } {
  let reads = 0;
  const s = {
    info: { serial: 'S1', driver: name },
    driver: { name },
    capabilities: { dkekBackup },
    exclusive: async () => {
      reads++;
      return { shares: 0, missing: 0 };
    },
  } as unknown as DriverCardSession;
  return { s, reads: () => reads };
}

test('the DKEK backup guard follows the driver capability, not the family name', async () => {
  // A family that backs keys up under a DKEK is checked, whatever its name.
  const backed = session('other-hsm', true);
  await assertKeyCanBeBackedUp(ctx, { card: backed.s, store, at: new Date(), caName: 'root', noBackup: false, generating: true });
  assert.equal(backed.reads(), 1);
  // One that has no DKEK is not asked for a DKEK status (the SmartCard-HSM command would fail on it).
  const none = session('sc-hsm', false);
  await assertKeyCanBeBackedUp(ctx, { card: none.s, store, at: new Date(), caName: 'root', noBackup: false, generating: true });
  assert.equal(none.reads(), 0);
});

test('the MyEID declares no DKEK backup, PUK unblocking and 4–8 character user PINs', () => {
  const caps = driverCapabilities(new MyeidDriver({} as ApduChannel));
  assert.equal(caps.dkekBackup, false);
  assert.equal(caps.unblockCredential, 'puk');
  assert.deepEqual(caps.userPinLength, { min: 4, max: 8 });
});
