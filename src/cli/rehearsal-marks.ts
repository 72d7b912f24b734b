import type { ExportFile } from '../ca/export/export-types.js';

/**
 * What a rehearsal home puts on its exports (issue #18 item 12): every README of an export
 * starts with a REHEARSAL banner, so a bundle made from emulated cards cannot be mistaken for a
 * production one on the concentrator. (Certificates, CRLs and configs are left byte-exact: the
 * concentrators and validators read them.)
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
  return files.map((f) => (/^README/i.test(f.path) ? { ...f, bytes: Buffer.concat([Buffer.from(REHEARSAL_BANNER, 'utf8'), Buffer.from(f.bytes)]) } : f));
}
