import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesAtomically } from '../../src/common/atomic-write.js';
import {
  type CeremonyRecord,
  escapeMarkdown,
  loadTranscriptTemplates,
  renderCeremonyTranscript,
  transcriptFiles,
  transcriptMatches,
  TranscriptError,
} from '../../src/ca/transcript.js';

const FP = 'a1'.repeat(32);
const FP2 = '0f'.repeat(32);

function record(over: Partial<CeremonyRecord> = {}): CeremonyRecord {
  return {
    kind: 'subca',
    caName: 'servers',
    ceremonyId: 'audit-117',
    startedAt: new Date('2026-11-27T20:00:00Z'),
    endedAt: new Date('2026-11-27T20:42:10Z'),
    timeZone: 'Europe/Berlin',
    timeAttestation: { attestedBy: 'Alice', statedTime: '2026-11-27 21:00 CET', systemTime: new Date('2026-11-27T20:00:03Z') },
    participants: [
      { name: 'Alice', role: 'operator' },
      { name: 'Bob', role: 'security-officer' },
      { name: 'Carol', role: 'witness' },
    ],
    cards: [
      { role: 'root', serial: 'DECC0100001', label: 'root-card', reader: 'Virtual PCD 00 00', triesLeftBefore: 3, triesLeftAfter: 3 },
      { role: 'servers', serial: 'DECC0100002', triesLeftBefore: 3, triesLeftAfter: 2 },
    ],
    steps: [
      { at: new Date('2026-11-27T20:05:00Z'), text: 'Insert the root card', confirmedBy: ['Alice', 'Carol'], result: 'done' },
      { at: new Date('2026-11-27T20:20:00Z'), text: 'Generate the servers key on the card', confirmedBy: ['Alice'], result: 'done' },
    ],
    keys: [{ label: 'servers CA key', algorithm: 'EC P-256', cardSerial: 'DECC0100002', spkiSha256: FP }],
    certificates: [
      {
        label: 'servers CA',
        subject: 'CN=Servers CA,O=Example',
        serialHex: '5A3C01FF',
        notBefore: new Date('2026-11-27T20:30:00Z'),
        notAfter: new Date('2031-11-27T20:30:00Z'),
        sha256: FP2,
      },
    ],
    crls: [
      {
        issuer: 'CN=Root CA,O=Example',
        crlNumber: '7',
        thisUpdate: new Date('2026-11-27T20:35:00Z'),
        nextUpdate: new Date('2027-02-25T20:35:00Z'),
        sha256: FP,
      },
    ],
    commands: ['ca ceremony subca servers --issuer root'],
    outcome: { status: 'success', summary: 'sub-CA servers certified' },
    software: 'cardca 0.1.0',
    notes: ['Witness noted the tamper-evident bag number 4411.'],
    ...over,
  };
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
/** Undo handlebars' HTML escaping (& < > " ' ` =) to compare values. */
const unescapeHtml = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x60;/g, '`')
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');

describe('ceremony transcripts', () => {
  test('every field of the record appears, times in UTC and in the local zone', () => {
    const r = renderCeremonyTranscript(record());
    for (const out of [text(r.markdown.bytes), unescapeHtml(text(r.html.bytes))]) {
      for (const s of [
        'servers', 'audit-117', 'Alice', 'security-officer', 'Carol', 'DECC0100001', 'DECC0100002', 'root-card',
        'Virtual PCD 00 00', 'Insert the root card', 'Generate the servers key on the card', 'EC P-256',
        'CN=Servers CA,O=Example', '5A:3C:01:FF', 'CN=Root CA,O=Example', 'ca ceremony subca servers --issuer root',
        'sub-CA servers certified', 'cardca 0.1.0', 'tamper-evident bag number 4411', '2026-11-27 21:00 CET',
        // fingerprints in colon form
        `${'A1:'.repeat(31)}A1`, `${'0F:'.repeat(31)}0F`,
        // start time: UTC and Europe/Berlin (CET, +01:00 in November)
        '2026-11-27 20:00:00 UTC', '2026-11-27 21:00:00 +01:00',
        '2031-11-27 20:30:00 UTC', '2027-02-25 20:35:00 UTC',
      ]) {
        assert.ok(out.includes(s), `missing ${JSON.stringify(s)}`);
      }
    }
    const md = text(r.markdown.bytes);
    // tries left before/after, with the drop flagged
    assert.match(md, /\| servers \| DECC0100002 \|  \|  \| 3 \| 2 \(\*\*dropped\*\*\) \|/);
    assert.match(md, /\| root \| DECC0100001 \| root-card \| Virtual PCD 00 00 \| 3 \| 3 \|/);
    assert.equal(r.markdown.fileName, 'ceremony-20261127T200000Z-subca-servers.md');
    assert.equal(r.html.fileName, 'ceremony-20261127T200000Z-subca-servers.html');
  });

  test('each card signature names the card (serial, family) and the key that made it', () => {
    const r = renderCeremonyTranscript(
      record({
        signatures: [
          { what: 'servers CA certificate (serial 5A3C01FF)', cardSerial: 'DECC0100003', cardFamily: 'sc-hsm', keyId: 'c0ffee01', keyRef: 2 },
          { what: 'root CRL #7', cardSerial: 'DECC0100001', cardFamily: 'sc-hsm', keyId: 'c0ffee01' },
        ],
      }),
    );
    const md = text(r.markdown.bytes);
    assert.match(md, /^## Signed by$/m);
    assert.ok(md.includes('- servers CA certificate (serial 5A3C01FF): card **DECC0100003** (sc-hsm), key iD `c0ffee01`, key reference 2'), md);
    assert.ok(md.includes('- root CRL \\#7: card **DECC0100001** (sc-hsm), key iD `c0ffee01`\n'), md);
    const html = text(r.html.bytes);
    assert.ok(html.includes('<tr><td>servers CA certificate (serial 5A3C01FF)</td><td>DECC0100003</td><td>sc-hsm</td><td class="fp">c0ffee01</td><td>2</td></tr>'), html);
    assert.notEqual(r.markdown.sha256, renderCeremonyTranscript(record()).markdown.sha256, 'which card signed changes the hash');
  });

  test('HTML escapes every record value; Markdown escapes table and HTML syntax', () => {
    const evil = '<script>alert("x")</script> & | *bold* `tick`';
    const r = renderCeremonyTranscript(
      record({
        caName: evil,
        steps: [{ at: new Date('2026-11-27T20:05:00Z'), text: evil, confirmedBy: ['<img src=x onerror=1>'], result: 'done' }],
        notes: [evil],
        commands: ['ca sign "<x>" ```` done'],
      }),
    );
    const html = text(r.html.bytes);
    assert.ok(!html.includes('<script>'), 'raw <script> in HTML');
    assert.ok(!html.includes('<img'), 'raw <img> in HTML');
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; | *bold*'));
    assert.ok(html.includes('<pre>ca sign &quot;&lt;x&gt;&quot; &#x60;&#x60;&#x60;&#x60; done</pre>'), html);
    assert.ok(unescapeHtml(html).includes(evil));
    const md = text(r.markdown.bytes);
    assert.ok(!md.includes('<script>'), 'raw <script> in Markdown');
    assert.ok(md.includes('\\<script\\>alert("x")\\</script\\> \\& \\| \\*bold\\* \\`tick\\`'));
    // The step row still has exactly 7 unescaped pipes (6 columns).
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'))!;
    assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 7, row);
    // Commands sit in a fence longer than any backtick run inside them.
    assert.ok(md.includes('`````\nca sign "<x>" ```` done\n`````'), md);
    assert.equal(escapeMarkdown('a\nb|c'), 'a b\\|c');
  });

  test('rendering is deterministic and the returned SHA-256 matches the bytes', async () => {
    const a = renderCeremonyTranscript(record());
    const b = renderCeremonyTranscript(record());
    assert.deepEqual(a.markdown.bytes, b.markdown.bytes);
    assert.deepEqual(a.html.bytes, b.html.bytes);
    assert.equal(a.markdown.sha256, createHash('sha256').update(a.markdown.bytes).digest('hex'));
    assert.equal(a.html.sha256, createHash('sha256').update(a.html.bytes).digest('hex'));
    // Any change to the record changes the hash.
    const c = renderCeremonyTranscript(record({ cards: [{ role: 'root', serial: 'DECC0100001', triesLeftBefore: 3, triesLeftAfter: 2 }] }));
    assert.notEqual(c.markdown.sha256, a.markdown.sha256);
    assert.notEqual(c.html.sha256, a.html.sha256);
    // Written files check against the recorded hash (what `ca audit verify --transcript` does).
    const dir = await mkdtemp(join(tmpdir(), 'cardca-transcript-'));
    await writeFilesAtomically(dir, transcriptFiles(a));
    const onDisk = new Uint8Array(await readFile(join(dir, a.html.fileName)));
    assert.ok(transcriptMatches(onDisk, a.html.sha256));
    assert.ok(transcriptMatches(onDisk, a.html.sha256.toUpperCase().replace(/(..)(?!$)/g, '$1:')));
    const tampered = Uint8Array.from(onDisk);
    tampered[tampered.length - 2] ^= 0x01;
    assert.equal(transcriptMatches(tampered, a.html.sha256), false);
    assert.equal(transcriptMatches(onDisk, 'not-hex'), false);
    await rm(dir, { recursive: true, force: true });
  });

  test('the hash does not depend on the process time zone', async () => {
    const { runTool } = await import('../helpers/validators.js');
    const mod = JSON.stringify(new URL('../../src/ca/transcript.js', import.meta.url).href);
    const script = `
      import { renderCeremonyTranscript } from ${mod};
      const r = ${JSON.stringify(record())};
      const revive = (o) => JSON.parse(JSON.stringify(o), (k, v) => typeof v === 'string' && /^\\d{4}-\\d\\d-\\d\\dT/.test(v) ? new Date(v) : v);
      console.log(renderCeremonyTranscript(revive(r)).html.sha256);
    `;
    const expected = renderCeremonyTranscript(record()).html.sha256;
    for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Kolkata']) {
      const res = await runTool('node', ['--input-type=module', '-e', script], { env: { ...process.env, TZ: tz } });
      assert.equal(res.output.trim(), expected, `TZ=${tz}: ${res.output}`);
    }
  });

  test('optional parts render as "none" text, not as empty or broken sections', () => {
    const r = renderCeremonyTranscript(
      record({ kind: 'crl', keys: [], certificates: [], crls: [], commands: [], notes: [], timeAttestation: undefined }),
    );
    const md = text(r.markdown.bytes);
    assert.match(md, /^# Ceremony transcript: CRL signing$/m);
    assert.match(md, /No keys generated or used\./);
    assert.match(md, /No certificates issued\./);
    assert.match(md, /No CRLs signed\./);
    assert.match(md, /No signatures by a card recorded\./);
    assert.match(md, /None recorded\./);
    assert.ok(!md.includes('## Time attestation'));
    assert.ok(!md.includes('## Notes'));
    assert.match(text(r.html.bytes), /@media print/);
  });

  test('malformed records are refused with TRANSCRIPT_INVALID', () => {
    const bad: Partial<CeremonyRecord>[] = [
      { kind: 'party' as never },
      { caName: ' ' },
      { startedAt: new Date('nope') },
      { endedAt: new Date('2026-11-27T19:00:00Z') },
      { timeZone: 'Mars/Olympus' },
      { cards: [{ role: 'x', serial: '1', triesLeftBefore: -1, triesLeftAfter: 0 }] },
      { keys: [{ label: 'k', algorithm: 'a', spkiSha256: 'abcd' }] },
      { signatures: [{ what: 'root CRL #1', cardSerial: '', cardFamily: 'sc-hsm', keyId: '01' }] },
    ];
    for (const over of bad) {
      assert.throws(() => renderCeremonyTranscript(record(over)), (e: unknown) => {
        assert.ok(e instanceof TranscriptError, String(e));
        assert.equal(e.code, 'TRANSCRIPT_INVALID');
        return true;
      });
    }
  });

  test('templates load from the package root, not the cwd', async () => {
    const { runTool } = await import('../helpers/validators.js');
    const mod = JSON.stringify(new URL('../../src/ca/transcript.js', import.meta.url).href);
    const res = await runTool('node', ['--input-type=module', '-e', `import { loadTranscriptTemplates } from ${mod}; const t = loadTranscriptTemplates(); console.log(t.html.length > 0 && t.markdown.length > 0);`], { cwd: tmpdir() });
    assert.equal(res.output.trim(), 'true', res.output);
    assert.match(loadTranscriptTemplates().html, /<!DOCTYPE html>/);
  });
});
