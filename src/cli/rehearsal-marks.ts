import type { ExportFile } from '../ca/export/export-types.js';

/**
 * What a rehearsal home puts on its exports (issue #18 item 12): every README of an export
 * starts with a REHEARSAL banner, and a directory export without one gets `REHEARSAL.txt`, so a
 * bundle made from emulated cards cannot be mistaken for a production one on the concentrator.
 */
export const REHEARSAL_BANNER = [
  '*** REHEARSAL ***',
  'This export comes from a cardca REHEARSAL home (`ca init --rehearsal`): its CA keys are on',
  'emulated test cards. Do not install it on a production VPN concentrator.',
  '*** REHEARSAL ***',
  '',
  '',
].join('\n');

export function markRehearsalExport(files: readonly ExportFile[]): ExportFile[] {
  const out = files.map((f) => (/^README/i.test(f.path) ? { ...f, bytes: Buffer.concat([Buffer.from(REHEARSAL_BANNER, 'utf8'), Buffer.from(f.bytes)]) } : f));
  if (files.length > 1 && !files.some((f) => /^README/i.test(f.path))) {
    out.push({ path: 'REHEARSAL.txt', bytes: Buffer.from(REHEARSAL_BANNER, 'utf8'), mode: files[0]!.mode });
  }
  return out;
}
