/**
 * `CA_CRASHPOINT=NAME[@N]` (crash tests only): the hook fires at the Nth time the point is
 * reached in this process (default the first), so a batch can be killed after its 4th
 * certificate, as issue #8 item 8 describes. The kill itself is replaced here by recording
 * what `process.kill` was asked to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashHookFromEnv } from '../../../src/cli/ca-context.js';
import { CardcaError } from '../../../src/common/cardca-error.js';

function recordKills(fn: () => void): string[] {
  const kills: string[] = [];
  const real = process.kill;
  process.kill = ((pid: number, sig?: string | number) => {
    kills.push(`${pid}:${String(sig)}`);
    return true;
  }) as typeof process.kill;
  try {
    fn();
  } finally {
    process.kill = real;
  }
  return kills;
}

test('NAME fires at the first time the point is reached, other points never', () => {
  const hook = crashHookFromEnv({ CA_CRASHPOINT: 'issuance-after-sign' })!;
  const kills = recordKills(() => {
    hook('issuance-after-reserve');
    hook('issuance-after-sign');
  });
  assert.deepEqual(kills, [`${process.pid}:SIGKILL`]);
});

test('NAME@5 fires only at the fifth time', () => {
  const hook = crashHookFromEnv({ CA_CRASHPOINT: 'issuance-after-sign@5' })!;
  const at: number[] = [];
  for (let i = 1; i <= 7; i++) {
    if (recordKills(() => hook('issuance-after-sign')).length > 0) at.push(i);
    hook('issuance-after-reserve');
  }
  assert.deepEqual(at, [5]);
});

test('a bad count or an unknown point is refused with CRASHPOINT_UNKNOWN', () => {
  for (const v of ['issuance-after-sign@0', 'issuance-after-sign@x', 'nowhere@2', 'issuance-after-sign@']) {
    assert.throws(() => crashHookFromEnv({ CA_CRASHPOINT: v }), (e: unknown) => e instanceof CardcaError && e.code === 'CRASHPOINT_UNKNOWN', v);
  }
  assert.equal(crashHookFromEnv({}), undefined);
});
