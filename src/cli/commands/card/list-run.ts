import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { CardKeyEntry } from '../../../card/card-service.js';
import { withCardService, type CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';

export interface ListArgs extends CardGlobalArgs {
  json: boolean;
}

function certSubject(der: Uint8Array | undefined): string | undefined {
  if (!der) return undefined;
  try {
    const name = AsnConvert.parse(der, Certificate).tbsCertificate.subject;
    // RFC 4514 order (most specific first), short names for the common attribute types.
    const short: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' };
    return [...name]
      .reverse()
      .map((rdn) =>
        rdn
          .map((atv) => `${short[atv.type] ?? atv.type}=${atv.value.toString()}`)
          .join('+'),
      )
      .join(', ');
  } catch {
    return '(unparseable certificate)';
  }
}

function keyJson(k: CardKeyEntry): Record<string, unknown> {
  return {
    label: k.label,
    id: k.id,
    keyRef: k.keyRef,
    // The real key type (rsa1024, brainpoolP256r1, …), also for keys cardca does not sign with.
    algorithm: k.type,
    size: k.bits ?? null,
    state: k.state,
    usable: k.usable,
    problems: k.problems,
    certificateSubject: certSubject(k.certificate) ?? null,
  };
}

/** `cardListCommand`'s handler (the definition is list.ts). */
export async function runCardList(ctx: CliContext, args: ListArgs): Promise<void> {
  return withCardService(ctx, args, async (service) => {
    const readers = await service.listReaders({ ...(args.reader === undefined ? {} : { reader: args.reader }), withKeys: true });
    const out: Array<Record<string, unknown>> = [];
    for (const r of readers) {
      if (args.reader !== undefined && r.reader !== args.reader) continue;
      if (args.card !== undefined && r.card?.serial !== args.card) continue;
      const keys: CardKeyEntry[] = r.keys ?? [];
      out.push({
        reader: r.reader,
        cardPresent: r.cardPresent,
        ...(r.card
          ? { serial: r.card.serial, label: r.card.label ?? null, initialized: r.card.initialized, driver: r.card.driver, version: r.card.version ?? null }
          : {}),
        ...(r.error ? { error: r.error } : {}),
        keys: keys.map(keyJson),
      });
    }
    if (args.json) {
      println(ctx, JSON.stringify(out, null, 2));
      return;
    }
    if (out.length === 0) println(ctx, 'No reader found.');
    for (const r of out) {
      if (!r['cardPresent']) {
        println(ctx, `${String(r['reader'])}: no card`);
        continue;
      }
      if (r['error']) {
        println(ctx, `${String(r['reader'])}: unusable card (${String(r['error'])})`);
        continue;
      }
      println(
        ctx,
        `${String(r['reader'])}: ${String(r['driver'])} serial ${String(r['serial'])}` +
          (r['initialized'] ? ` label "${String(r['label'] ?? '')}"` : ' (not initialised)'),
      );
      const keys = r['keys'] as Array<Record<string, unknown>>;
      if (keys.length === 0) println(ctx, '  no keys');
      for (const k of keys) {
        const problems = k['problems'] as string[];
        if (k['state'] === 'incomplete') {
          println(ctx, `  ${problems.join('; ')}${k['id'] ? ` (id ${String(k['id'])})` : ''}`);
          continue;
        }
        println(
          ctx,
          `  key "${String(k['label'])}" id ${String(k['id'])} ${String(k['algorithm'])} (${String(k['size'])} bits)` +
            (k['certificateSubject'] ? ` cert: ${String(k['certificateSubject'])}` : ' no certificate') +
            (k['usable'] ? '' : ' [not usable by cardca]'),
        );
        for (const p of problems) println(ctx, `    note: ${p}`);
      }
    }
  });
}
