/**
 * Drive a command through a real pseudo-terminal with tmux, for tests of the TTY PIN prompt
 * (ca-invariants.md §4.1: "a canary PIN is entered through tmux send-keys").
 *
 * ```ts
 * const tty = await TmuxDriver.start(dir);                 // private tmux server (socket in dir)
 * const pane = await tty.run('s1', [process.execPath, BIN, 'card', 'keygen', …]);
 * await pane.waitFor(/User PIN: $/m);                       // polls capture-pane
 * await pane.type('secret');  await pane.enter();
 * const { status, screen } = await pane.waitExit();
 * pane.log()                                                // everything the pane printed
 * await tty.stop();
 * ```
 *
 * Each test owns its tmux server (`-S DIR/tmux.sock`, `-f /dev/null`), so it never touches a
 * developer's tmux. Panes stay after their process exits (`remain-on-exit`) so the screen
 * can be read; `pipe-pane` copies every byte the pane shows into a log file.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function exec(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${String(stderr)}`));
      else resolve(String(stdout));
    });
  });
}

export class TmuxPane {
  constructor(
    private readonly driver: TmuxDriver,
    readonly name: string,
    readonly logFile: string,
    private readonly rcFile: string,
  ) {}

  /** The visible screen plus scroll-back, wrapped lines joined. */
  screen(): Promise<string> {
    return this.driver.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.name);
  }

  /** Raw bytes the pane received (escape sequences included). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'latin1') : '';
  }

  /**
   * PID of the command: the pane runs `sh -c 'CMD; echo $? > RCFILE'`, so it is the shell's child.
   */
  async pid(): Promise<number> {
    const sh = Number((await this.driver.tmux('display-message', '-p', '-t', this.name, '#{pane_pid}')).trim());
    const children = readFileSync(`/proc/${sh}/task/${sh}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (children.length !== 1) throw new Error(`pane ${this.name}: shell ${sh} has children [${children.join(', ')}], expected the command alone`);
    return Number(children[0]);
  }

  /**
   * Exit status once the command has exited. Read from the file the pane's shell writes, not from
   * tmux's #{pane_dead_status}: tmux 3.3a was seen leaving exited panes unreaped (zombie, no status).
   */
  async dead(): Promise<{ dead: boolean; status: number | null }> {
    if (!existsSync(this.rcFile)) return { dead: false, status: null };
    const text = readFileSync(this.rcFile, 'utf8');
    if (!text.endsWith('\n')) return { dead: false, status: null };
    return { dead: true, status: Number(text.trim()) };
  }

  /**
   * Poll the screen until `re` matches. Rejects with the screen when the process exits first or
   * nothing matched within `timeoutMs` (a hang guard, not a timing assertion).
   */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (re.test(screen)) return screen;
      const d = await this.dead();
      if (d.dead) throw new Error(`pane ${this.name} exited (status ${d.status}) before ${re} appeared:\n${screen}`);
      if (Date.now() > deadline) throw new Error(`pane ${this.name}: ${re} did not appear within ${timeoutMs} ms:\n${screen}`);
      await sleep(50);
    }
  }

  /** Wait for the process to exit; its status and final screen. */
  async waitExit(timeoutMs = 60_000): Promise<{ status: number | null; screen: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await this.dead();
      if (d.dead) return { status: d.status, screen: await this.screen() };
      if (Date.now() > deadline) throw new Error(`pane ${this.name} still running after ${timeoutMs} ms:\n${await this.screen()}`);
      await sleep(50);
    }
  }

  /** Type text literally (no key-name interpretation), as keystrokes into the terminal. */
  async type(text: string): Promise<void> {
    await this.driver.tmux('send-keys', '-t', this.name, '-l', text);
  }

  async enter(): Promise<void> {
    await this.driver.tmux('send-keys', '-t', this.name, 'Enter');
  }

  async kill(): Promise<void> {
    await this.driver.tmux('kill-session', '-t', this.name).catch(() => undefined);
  }
}

export class TmuxDriver {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
  ) {}

  /** A private tmux server whose socket and pane logs live in `dir`. */
  static async start(dir: string): Promise<TmuxDriver> {
    const d = new TmuxDriver(join(dir, 'tmux.sock'), dir);
    // A placeholder session keeps the server alive between the test's panes.
    await d.tmux('new-session', '-d', '-s', 'keepalive', '-x', '200', '-y', '50', 'exec sleep 3600');
    await d.tmux('set-option', '-g', 'remain-on-exit', 'on');
    await d.tmux('set-option', '-g', 'history-limit', '50000');
    return d;
  }

  tmux(...args: string[]): Promise<string> {
    return exec('tmux', ['-S', this.socket, '-f', '/dev/null', ...args]);
  }

  /**
   * Start `argv` in a new session `name` (200×50 terminal), its output copied to DIR/name.log.
   * `env` adds variables (none of them may be secret: they would be in /proc/PID/environ).
   */
  async run(name: string, argv: readonly string[], env: Record<string, string> = {}): Promise<TmuxPane> {
    const logFile = join(this.dir, `${name}.log`);
    const rcFile = join(this.dir, `${name}.rc`);
    const assigns = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // `env` execs the command, so the shell has exactly one child: the command itself.
    const command = `${['env', ...assigns, ...argv.map(shellQuote)].join(' ')}; echo $? > ${shellQuote(rcFile)}`;
    // One tmux invocation: the pipe is attached before the command can print anything.
    await this.tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', command, ';', 'pipe-pane', '-o', '-t', name, `cat >> ${shellQuote(logFile)}`);
    return new TmuxPane(this, name, logFile, rcFile);
  }

  async stop(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

/** PID file of a lock directory. */
const OWNER = 'owner.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Exclusive use of some rig ports across test files that `node --test` may run in parallel
 * (pin-safety and no-private-key share the vpcd ports 35969/35970). mkdir is atomic; a lock
 * whose owner process is gone is taken over. Returns the release function.
 *
 * The ports are those of one rig: a rig lane of scripts/run-tests.mjs (CARDCA_RIG_DIR set) has
 * its own, in its own network namespace, so its lock lives in its state dir — a lock in /tmp
 * would make lanes wait for each other's ports for nothing.
 */
export async function lockRigPorts(ports: readonly number[], timeoutMs = 300_000): Promise<() => void> {
  const rigDir = process.env['CARDCA_RIG_DIR'];
  const name = `cardca-rig-lock-${[...ports].sort().join('-')}`;
  const dir = rigDir ? join(rigDir, name) : join(tmpdir(), name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, OWNER), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, OWNER), 'utf8'));
    } catch {
      /* owner not written yet */
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(dir, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`rig ports ${ports.join(', ')} stayed locked by pid ${owner} for ${timeoutMs} ms (${dir})`);
    else await sleep(200);
  }
}
