/**
 * Fault injection for the emulator (ca-invariants.md fault model): what happens to the Nth
 * APDU (1-based, counted over the emulator's run) or to every APDU with a given INS.
 *
 * Spec strings (`ca emulator start --fault SPEC`, repeatable):
 *   remove-after=K          close the vpcd socket right after answering APDU K (card removal)
 *   power-off-after=K       power the card off after answering APDU K (volatile state lost)
 *   sw=K:6F00               answer APDU K with SW 6F00 instead of processing it
 *   sw-ins=68:6581          answer every APDU with INS 68 with SW 6581
 *   delay=K:500             hold APDU K for 500 ms before processing it
 */
export type Fault =
  | { kind: 'remove-after'; seq: number }
  | { kind: 'power-off-after'; seq: number }
  | { kind: 'sw'; seq: number; sw: number }
  | { kind: 'sw-ins'; ins: number; sw: number }
  | { kind: 'delay'; seq: number; ms: number };

export interface FaultDecision {
  delayMs: number;
  /** Answer with this SW instead of running the command. */
  sw: number | undefined;
  removeAfter: boolean;
  powerOffAfter: boolean;
}

export class FaultSpecError extends Error {}

export function parseFaultSpec(spec: string): Fault {
  const m = /^([a-z-]+)=(.+)$/.exec(spec.trim());
  if (!m) throw new FaultSpecError(`bad fault spec ${JSON.stringify(spec)}: expected NAME=VALUE`);
  const [, name, value] = m as unknown as [string, string, string];
  const int = (s: string) => {
    if (!/^\d+$/.test(s) || Number(s) < 1) throw new FaultSpecError(`bad fault spec ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not a positive integer`);
    return Number(s);
  };
  const hex = (s: string, digits: number) => {
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(s)) throw new FaultSpecError(`bad fault spec ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not ${digits} hex digits`);
    return parseInt(s, 16);
  };
  const pair = () => {
    const parts = value.split(':');
    if (parts.length !== 2) throw new FaultSpecError(`bad fault spec ${JSON.stringify(spec)}: expected A:B`);
    return parts as [string, string];
  };
  switch (name) {
    case 'remove-after':
      return { kind: 'remove-after', seq: int(value) };
    case 'power-off-after':
      return { kind: 'power-off-after', seq: int(value) };
    case 'sw': {
      const [k, sw] = pair();
      return { kind: 'sw', seq: int(k), sw: hex(sw, 4) };
    }
    case 'sw-ins': {
      const [ins, sw] = pair();
      return { kind: 'sw-ins', ins: hex(ins, 2), sw: hex(sw, 4) };
    }
    case 'delay': {
      const [k, ms] = pair();
      return { kind: 'delay', seq: int(k), ms: int(ms) };
    }
    default:
      throw new FaultSpecError(`unknown fault ${JSON.stringify(name)} (known: remove-after, power-off-after, sw, sw-ins, delay)`);
  }
}

/** A mutable set of faults; tests add and clear them while the emulator runs. */
export class FaultPlan {
  private faults: Fault[] = [];

  constructor(initial: readonly (Fault | string)[] = []) {
    for (const f of initial) this.add(f);
  }

  add(f: Fault | string): this {
    this.faults.push(typeof f === 'string' ? parseFaultSpec(f) : f);
    return this;
  }

  clear(): void {
    this.faults = [];
  }

  list(): readonly Fault[] {
    return [...this.faults];
  }

  /** What to do with APDU number `seq` (1-based) whose INS is `ins`. */
  decide(seq: number, ins: number): FaultDecision {
    const d: FaultDecision = { delayMs: 0, sw: undefined, removeAfter: false, powerOffAfter: false };
    for (const f of this.faults) {
      switch (f.kind) {
        case 'remove-after':
          if (f.seq === seq) d.removeAfter = true;
          break;
        case 'power-off-after':
          if (f.seq === seq) d.powerOffAfter = true;
          break;
        case 'sw':
          if (f.seq === seq) d.sw = f.sw;
          break;
        case 'sw-ins':
          if (f.ins === ins && d.sw === undefined) d.sw = f.sw;
          break;
        case 'delay':
          if (f.seq === seq) d.delayMs += f.ms;
          break;
      }
    }
    return d;
  }
}
