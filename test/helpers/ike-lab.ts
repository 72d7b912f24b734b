/**
 * A two-host IKEv2 lab for the real strongSwan handshake test: two network namespaces created
 * here and joined by a veth pair (192.0.2.1 responder, 192.0.2.2 initiator, RFC 5737 TEST-NET-1;
 * the addresses exist only inside the namespaces, nothing is routed out), one charon daemon in
 * each, every daemon with its own strongswan.conf, swanctl directory, vici socket, log file and
 * pid file.
 *
 * charon writes its pid file to the compiled-in /var/run/charon.pid (= /run/charon.pid on
 * Debian) and refuses to start while it names a live process, so each daemon runs with its
 * own directory bind-mounted over /run. `ip netns exec` runs the command in a private mount
 * namespace (ip-netns(8)), so that bind mount is invisible to the host and to the other daemon.
 *
 * Needs root (namespaces, mounts, XFRM). Every step has a timeout; `close()` stops both daemons
 * (SIGTERM, then SIGKILL of their process groups) and deletes the namespaces and the veth pair,
 * and is safe to call twice. Names carry the test process id so parallel runs do not collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { faketimeSpec, runTool, type ToolResult } from './validators.js';

export const CHARON = '/usr/lib/ipsec/charon';
export const RESPONDER_ADDR = '192.0.2.1';
export const INITIATOR_ADDR = '192.0.2.2';

/** Plugins both daemons load (no fetchers: a CRL distribution point URL cannot be fetched in the lab). */
const PLUGINS = 'random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey sha1 sha2 hmac aes gcm kdf kernel-netlink socket-default vici';

/** What swanctl needs to parse the credentials it loads (PEM/DER certificates, CRLs, PKCS#8 keys). */
const SWANCTL_PLUGINS = 'random openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey';

export type Role = 'responder' | 'initiator';

export interface CharonDaemon {
  role: Role;
  ns: string;
  /** The swanctl directory (x509/, x509ca/, x509crl/, private/, conf.d/, swanctl.conf). */
  swanctlDir: string;
  confFile: string;
  socket: string;
  logFile: string;
  /** `swanctl ARGS` against this daemon's vici socket. */
  swanctl(args: string[], timeoutMs?: number): Promise<ToolResult>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface IkeLab {
  dir: string;
  responder: CharonDaemon;
  initiator: CharonDaemon;
  /** Restart one daemon (e.g. under faketime); its swanctl directory stays. */
  restart(role: Role, options?: { faketime?: string | Date }): Promise<CharonDaemon>;
  close(): Promise<void>;
}

async function must(cmd: string, args: string[], timeoutMs = 10_000): Promise<void> {
  const r = await runTool(cmd, args, { timeoutMs });
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.exitCode)}: ${r.output}`);
}

function strongswanConf(dir: string, socket: string, logFile: string): string {
  return [
    '# Written by test/helpers/ike-lab.ts: one daemon of the IKEv2 lab.',
    'charon {',
    `    load = ${PLUGINS}`,
    '    install_routes = no',
    '    retransmit_tries = 2',
    '    retransmit_timeout = 1.0',
    '    filelog {',
    '        lab {',
    `            path = ${logFile}`,
    '            default = 1',
    '            cfg = 2',
    '            ike = 2',
    '            time_format = %T',
            '            flush_line = yes',
    '        }',
    '    }',
    `    plugins { vici { socket = unix://${socket} } }`,
    '}',
    'swanctl {',
    `    socket = unix://${socket}`,
    `    load = ${SWANCTL_PLUGINS}`,
    '}',
    `# swanctl directory: ${join(dir, 'swanctl')} (SWANCTL_DIR)`,
    '',
  ].join('\n');
}

async function startDaemon(dir: string, role: Role, ns: string, faketime?: string | Date): Promise<CharonDaemon> {
  const base = join(dir, role);
  const swanctlDir = join(base, 'swanctl');
  const runDir = join(base, 'run');
  // Every directory swanctl --load-creds reads (swanctl(8)), so a missing one is not logged as a failure.
  for (const d of ['x509', 'x509ca', 'x509crl', 'x509ocsp', 'x509aa', 'x509ac', 'private', 'pubkey', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12', 'conf.d']) await mkdir(join(swanctlDir, d), { recursive: true });
  await mkdir(runDir, { recursive: true });
  const socket = join(base, 'charon.vici');
  const logFile = join(base, 'charon.log');
  const confFile = join(base, 'strongswan.conf');
  await writeFile(confFile, strongswanConf(base, socket, logFile));
  const env = { ...process.env, STRONGSWAN_CONF: confFile, SWANCTL_DIR: swanctlDir, ...(faketime === undefined ? {} : { TZ: 'UTC' }) };
  const daemon = [...(faketime === undefined ? [] : ['faketime', '-f', faketimeSpec(faketime)]), CHARON];
  let out = '';
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', 'mount --bind "$0" /run && exec "$@"', runDir, ...daemon], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  let exited = false;
  const closed = new Promise<void>((res) => child.on('close', () => ((exited = true), res())));
  child.on('error', (e) => (out += `spawn error: ${String(e)}\n`));

  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  const stop = async (): Promise<void> => {
    if (exited) return;
    killGroup('SIGTERM');
    const t = await Promise.race([closed.then(() => 'closed'), sleep(5_000).then(() => 'timeout')]);
    if (t === 'timeout') {
      killGroup('SIGKILL');
      await Promise.race([closed, sleep(2_000)]);
    }
  };
  const swanctl = (args: string[], timeoutMs = 20_000): Promise<ToolResult> =>
    runTool('swanctl', [...args, '--uri', `unix://${socket}`], { timeoutMs, env: { ...process.env, STRONGSWAN_CONF: confFile, SWANCTL_DIR: swanctlDir } });

  // Ready when swanctl can talk to it (the vici socket exists before the plugin listens).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`charon (${role}, netns ${ns}) exited at start:\n${out}\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    if (existsSync(socket) && (await swanctl(['--stats'], 3_000)).ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`charon (${role}, netns ${ns}) did not open its vici socket ${socket} within 15 s:\n${out}`);
    }
    await sleep(100);
  }
  return {
    role,
    ns,
    swanctlDir,
    confFile,
    socket,
    logFile,
    swanctl,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    stop,
  };
}

/** Creates the namespaces and the veth pair and starts both daemons (each with an empty swanctl directory). */
export async function startIkeLab(dir: string): Promise<IkeLab> {
  const tag = `cardca${process.pid % 100000}`;
  const ns: Record<Role, string> = { responder: `${tag}-r`, initiator: `${tag}-i` };
  const veth = { responder: `${tag}r`, initiator: `${tag}i` };
  const daemons: Partial<Record<Role, CharonDaemon>> = {};
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const d of Object.values(daemons)) await d?.stop().catch(() => undefined);
    // Deleting a namespace deletes the veth end in it, and with it the pair.
    for (const n of Object.values(ns)) await runTool('ip', ['netns', 'delete', n], { timeoutMs: 10_000 });
  };
  try {
    for (const n of Object.values(ns)) {
      await runTool('ip', ['netns', 'delete', n], { timeoutMs: 10_000 }); // a leftover of a killed run
      await must('ip', ['netns', 'add', n]);
    }
    await must('ip', ['link', 'add', veth.responder, 'netns', ns.responder, 'type', 'veth', 'peer', 'name', veth.initiator, 'netns', ns.initiator]);
    const up = async (role: Role, addr: string): Promise<void> => {
      await must('ip', ['-n', ns[role], 'link', 'set', 'lo', 'up']);
      await must('ip', ['-n', ns[role], 'addr', 'add', `${addr}/24`, 'dev', veth[role]]);
      await must('ip', ['-n', ns[role], 'link', 'set', veth[role], 'up']);
    };
    await up('responder', RESPONDER_ADDR);
    await up('initiator', INITIATOR_ADDR);
    daemons.responder = await startDaemon(dir, 'responder', ns.responder);
    daemons.initiator = await startDaemon(dir, 'initiator', ns.initiator);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    dir,
    get responder() {
      return daemons.responder!;
    },
    get initiator() {
      return daemons.initiator!;
    },
    async restart(role, options = {}) {
      await daemons[role]!.stop();
      daemons[role] = await startDaemon(dir, role, ns[role], options.faketime);
      return daemons[role]!;
    },
    close,
  };
}
