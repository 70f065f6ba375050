/**
 * Linux: POSIX locking, plus what /proc and util-linux offer: start times
 * that tell a process from a later one with the same PID, the kernel's list
 * of flock holders, and a parent-death signal for the command.
 */
import fs = require('node:fs');
import path = require('node:path');
import { walkUp } from './ancestry';
import { loadKoffi } from './koffi';
import { posixPlatform, PosixReleaseWaiter } from './posix';
import type { KernelLockHolder, Platform, SignalWitness, SpawnPlan } from './types';

/** The fields of /proc/PID/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

let own: boolean | undefined;

/** Whether /proc is this PID namespace's: /proc/self then names this process by the PID it knows itself by. */
function ownProcessTable(): boolean {
  if (own === undefined) {
    try {
      own = fs.readlinkSync('/proc/self') === String(process.pid);
    } catch {
      own = false;
    }
  }
  return own;
}

/**
 * The start time in clock ticks since boot (field 22). A zombie (state Z or X: ended, not yet reaped) has let go
 * of every lock: 'exited', which no living process records.
 */
function startTag(pid: number): string | undefined {
  if (!ownProcessTable()) return undefined;
  const f = statFields(pid);
  if (f === undefined) return undefined;
  return f[0] === 'Z' || f[0] === 'X' ? 'exited' : f[19];
}

/** The inode number of a PID namespace link (`pid:[4026531836]`), or undefined. */
function namespaceOf(link: string): string | undefined {
  try {
    return /^pid:\[(\d+)\]$/.exec(fs.readlinkSync(link))?.[1];
  } catch {
    return undefined;
  }
}

let ownNamespace: { ns: string | undefined } | undefined;

/** This process's PID namespace: /proc/self/ns/pid names the process's own, whoever's /proc this is. */
function pidNamespace(): string | undefined {
  ownNamespace ??= { ns: namespaceOf('/proc/self/ns/pid') };
  return ownNamespace.ns;
}

/** The PID namespace of process `pid` and its PID there (the last of NSpid), where it is not this process's. */
function innerPid(pid: number): { ns: string; pid: number } | undefined {
  const ns = namespaceOf(`/proc/${pid}/ns/pid`);
  if (ns === undefined || ns === pidNamespace()) return undefined;
  try {
    const nspid = /^NSpid:\s*(.*)$/m
      .exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]
      ?.trim()
      .split(/\s+/);
    const inner = Number(nspid?.[nspid.length - 1]);
    return Number.isInteger(inner) && inner > 0 ? { ns, pid: inner } : undefined;
  } catch {
    return undefined;
  }
}

let memfd: ((name: string, flags: number) => number) | undefined;
const MFD_CLOEXEC = 1;

/** memfd_create(2) through koffi: loaded only by a runner that captures output. */
function memoryFile(name: string): number | undefined {
  try {
    memfd ??= loadKoffi().load('libc.so.6').func('int memfd_create(const char *name, unsigned int flags)') as (
      name: string,
      flags: number,
    ) => number;
    const fd = memfd(name, MFD_CLOEXEC);
    return fd >= 0 ? fd : undefined;
  } catch {
    return undefined; // no koffi, no memfd_create (kernels before 3.17): a file in $TMPDIR does the job
  }
}

/** /proc/self/cmdline or /proc/self/environ, split at its NULs. */
function startBytes(what: 'argv' | 'environ'): Buffer[] | undefined {
  let all: Buffer;
  try {
    all = fs.readFileSync(what === 'argv' ? '/proc/self/cmdline' : '/proc/self/environ');
  } catch {
    return undefined;
  }
  const out: Buffer[] = [];
  for (let start = 0; start < all.length;) {
    const end = all.indexOf(0, start);
    const stop = end < 0 ? all.length : end;
    out.push(all.subarray(start, stop));
    start = stop + 1;
  }
  return out;
}

/** State T (stopped) or t (stopped by a tracer): field 3. */
function stopped(pid: number): boolean | undefined {
  if (!ownProcessTable()) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state === 'T' || state === 't';
  } catch {
    return undefined;
  }
}

function ancestors(): number[] {
  // Without this namespace's /proc only the parent is known: never a wrong ancestor.
  if (!ownProcessTable()) return process.ppid > 0 ? [process.ppid] : [];
  return walkUp(process.ppid, (pid) => {
    const ppid = Number(statFields(pid)?.[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  });
}

/** The flock holders of `file` as /proc/locks lists them: any program (flock(1), the reference runner, piplock). */
function kernelLockHolders(file: string): KernelLockHolder[] {
  let text: string;
  let id: string;
  // Another namespace's /proc/locks names processes by PIDs that mean nothing here.
  if (!ownProcessTable()) return [];
  try {
    const st = fs.statSync(file, { bigint: true });
    // The kernel prints the device as MAJOR:MINOR in hex (at least two digits each), then the inode: the inode
    // alone would also match a file of that number on another file system.
    const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
    const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
    id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
    text = fs.readFileSync('/proc/locks', 'latin1');
  } catch {
    return [];
  }
  const out: KernelLockHolder[] = [];
  for (const line of text.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters have "->" after the number
    const f = line.trim().split(/\s+/);
    if (f[1] !== 'FLOCK' || f[2] === '->' || f[5]?.toLowerCase() !== id) continue;
    const pid = Number(f[4]);
    let command: string[] = [];
    try {
      command = fs
        .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
    } catch {
      // gone meanwhile
    }
    const inner = innerPid(pid);
    out.push({ pid, mode: f[3] === 'WRITE' ? 'exclusive' : 'shared', command, ...(inner ? { inner } : {}) });
  }
  return out;
}

/*
 * The command dies with the runner. If the runner is SIGKILLed (or
 * OOM-killed) its lock goes with it, and a command that went on running would
 * be modifying the virtualenv with no lock held. PR_SET_PDEATHSIG has to be set
 * in the child between fork and exec, which Node cannot do, so the command is
 * started through util-linux `setpriv --pdeathsig KILL -- COMMAND ARGS`, which
 * sets it and execs the command in place (one extra exec, about 1 ms).
 *
 * The signal only covers a runner that dies after setpriv has set it. A
 * runner killed between the fork and that moment (about a millisecond) would
 * leave the command unprotected, and setpriv does not check its parent. So
 * setpriv runs `/bin/sh -c` with a check of $PPID, read after the signal was
 * set, against the runner's PID; on a mismatch the command never starts.
 * That costs one exec of sh (dash: well under a millisecond).
 *
 * Limits, by the kernel's design: the signal is sent when the runner exits,
 * just after its descriptors (and so the lock) were closed, which leaves a
 * window of microseconds; it reaches the command only, not processes the
 * command started itself; and a set-user-ID command clears it.
 */

const SH = '/bin/sh';

function isExecutableFile(p: string): boolean {
  try {
    // No exception for the common miss: a PATH search misses in most directories, and on the hand-off path.
    if (!fs.statSync(p, { throwIfNoEntry: false })?.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** execvp's search: a name with a slash is used as is, others are looked up on PATH. */
export function findExecutable(command: string, pathVar: string | undefined, cwd = '.'): string | undefined {
  if (command.includes('/')) return isExecutableFile(path.resolve(cwd, command)) ? command : undefined;
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(cwd, dir === '' ? '.' : dir, command);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/** ELF e_machine of each Node architecture. */
const ELF_MACHINE: Record<string, number> = {
  x64: 62,
  arm64: 183,
  ia32: 3,
  arm: 40,
  riscv64: 243,
  ppc64: 21,
  s390x: 22,
  loong64: 258,
};

/**
 * Why the kernel would refuse to run `file`, for the two refusals that the
 * sh in the parent-death wrapper would otherwise report in its own words, or
 * answer by running the file as a shell script: a #! line naming an
 * interpreter that cannot be run, and an ELF file for another machine. One
 * read of the file's first bytes.
 */
function refusal(file: string, depth = 0): string | undefined {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(256);
      head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined; // unreadable but executable: let the kernel decide
  }
  if (head[0] === 0x23 && head[1] === 0x21) {
    const interpreter = head.toString('latin1', 2).split('\n')[0]!.trim().split(/[ \t]/)[0] ?? '';
    if (!interpreter.startsWith('/') || !isExecutableFile(interpreter))
      return `its interpreter '${interpreter}' (on its #! line) cannot be run`;
    return depth < 3 ? refusal(interpreter, depth + 1) : undefined;
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return elfRefusal(head, file);
  return undefined;
}

/** The ELF header checks the kernel makes before it maps anything (little-endian machines). */
function elfRefusal(head: Buffer, file: string): string | undefined {
  const wide = process.arch.endsWith('64');
  const machine = ELF_MACHINE[process.arch];
  const size = wide ? 64 : 52;
  if (head.length < size || head[4] !== (wide ? 2 : 1) || head[5] !== 1 || head[6] !== 1)
    return 'it is not an executable for this machine';
  if (machine !== undefined && head.readUInt16LE(18) !== machine) return 'it is an executable for another machine';
  const type = head.readUInt16LE(16);
  const phoff = wide ? Number(head.readBigUInt64LE(32)) : head.readUInt32LE(28);
  const [ehsize, phentsize, phnum] = wide
    ? [head.readUInt16LE(52), head.readUInt16LE(54), head.readUInt16LE(56)]
    : [head.readUInt16LE(40), head.readUInt16LE(42), head.readUInt16LE(44)];
  let length = Infinity;
  try {
    length = fs.statSync(file).size;
  } catch {
    // judged on the header alone
  }
  const valid =
    (type === 2 || type === 3) &&
    ehsize === size &&
    phentsize === (wide ? 56 : 32) &&
    phnum > 0 &&
    phoff + phnum * phentsize <= length;
  return valid ? undefined : 'it is not a valid executable (a damaged ELF file)';
}

/** What the parent-death wrapper needs, looked up once on the runner's own PATH. */
interface Wrapper {
  setpriv: string | undefined;
  sh: boolean;
}
let wrapper: Wrapper | undefined;

function prepareSpawn(): Wrapper {
  wrapper ??= { setpriv: findExecutable('setpriv', process.env.PATH), sh: isExecutableFile(SH) };
  return wrapper;
}

/**
 * setpriv with a parent-death SIGKILL in front of the command, where that is
 * possible: not without setpriv, not for a detached command, and not for a
 * command that cannot be run, which is spawned directly so that its error is
 * Node's (setpriv would report it in words of its own).
 */
type SpawnOptions = { env?: NodeJS.ProcessEnv; cwd?: string | URL; detached?: boolean };

/** What goes before a command's own argv, or why it cannot run; worked out once per command, PATH and directory. */
type Wrapping = { prefix: string[] | undefined } | { refused: string };
const wrappings = new Map<string, Wrapping>();

function wrapping(command: string, options: SpawnOptions): Wrapping {
  const pathVar = (options.env ?? process.env).PATH;
  const cwd = options.cwd?.toString();
  const key = `${command}\0${pathVar}\0${cwd}`;
  let w = wrappings.get(key);
  if (w === undefined) {
    w = computeWrapping(command, pathVar, cwd);
    wrappings.set(key, w);
  }
  return w;
}

function computeWrapping(command: string, pathVar: string | undefined, cwd: string | undefined): Wrapping {
  const { setpriv, sh } = prepareSpawn();
  if (setpriv === undefined) return { prefix: undefined };
  const file = findExecutable(command, pathVar, cwd);
  if (file === undefined) return { prefix: undefined };
  const why = refusal(path.resolve(cwd ?? '.', file));
  if (why !== undefined) return { refused: `cannot execute '${command}': ${why}` };
  if (!sh) return { prefix: [setpriv, '--pdeathsig', 'KILL', '--'] };
  const parentCheck = `[ "$PPID" = ${process.pid} ] || exit 1; exec "$@"`;
  return { prefix: [setpriv, '--pdeathsig', 'KILL', '--', SH, '-c', parentCheck, 'piplock'] };
}

function spawnPlan(command: string, args: readonly string[], options: SpawnOptions): SpawnPlan {
  const w = options.detached ? { prefix: undefined } : wrapping(command, options);
  if ('refused' in w) return w;
  if (w.prefix === undefined) return { command, args: [...args], spawned: () => {} };
  const [wrapper, ...rest] = w.prefix;
  return { command: wrapper!, args: [...rest, command, ...args], spawned: () => {} };
}

/*
 * One Ctrl-C, once. A terminal's Ctrl-C, and ninja interrupting an action, signal the whole process group: the
 * runner, and its command with it. A runner that passed the signal on as well would give the command a second one
 * (which interrupted pip's rollback); one that never passed it on would leave a command running whose runner alone
 * was signalled (`kill -INT <runner>`, `docker stop`). Node tells a signal handler neither the sender nor whether the
 * group was meant, and by the time the handler runs the command has taken its own copy. So the runner keeps a
 * witness in its process group: `env --block-signal=... cat`, which blocks the signals the runner passes on, so that
 * one sent to the group stays pending in it, where /proc/<pid>/status shows it (ShdPnd). cat reads the runner's
 * pipe and ends at its end, so the witness goes with the runner however the runner ends. One spawn (about 1 ms of
 * the runner's CPU) after the command's, off the hand-off path. Without env's --block-signal (coreutils before
 * 8.31, busybox) the witness ends at once and sees nothing: the runner passes every signal on, as before.
 */
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

class BlockedSignalWitness implements SignalWitness {
  private child: import('node:child_process').ChildProcess | undefined;
  /** The signal that ended a witness before it had blocked the signals: it saw that one, too. */
  private endedBy: NodeJS.Signals | undefined;

  constructor(
    private readonly env: string,
    private readonly signals: readonly NodeJS.Signals[],
  ) {
    this.start();
  }

  private start(): void {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const names = this.signals.map((s) => s.slice(3)).join(',');
    try {
      const child = spawn(this.env, [`--block-signal=${names}`, 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.once('error', () => {}); // no env: the witness sees nothing, and every signal is passed on
      child.once('exit', (_code, signal) => {
        if (this.child === child && signal !== null) this.endedBy = signal;
      });
      child.stdin?.on('error', () => {});
      child.unref();
      this.child = child;
    } catch {
      this.child = undefined; // EAGAIN, EMFILE: as without a witness
    }
  }

  /** The witness's pending signals (shared and its own), or undefined where they cannot be read. */
  private pending(): bigint | undefined {
    const pid = this.child?.pid;
    if (pid === undefined || pid <= 0) return undefined;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch {
      return undefined;
    }
    if (/^State:\s*[ZX]/m.test(text)) return undefined; // ended: env without --block-signal
    const shared = /^ShdPnd:\s*([0-9a-f]+)$/m.exec(text)?.[1];
    const own = /^SigPnd:\s*([0-9a-f]+)$/m.exec(text)?.[1];
    if (shared === undefined || own === undefined) return undefined;
    return BigInt(`0x${shared}`) | BigInt(`0x${own}`);
  }

  saw(sig: NodeJS.Signals): boolean | undefined {
    const n = SIGNAL_NUMBERS[sig];
    if (n === undefined) return undefined;
    if (this.endedBy === sig) {
      this.renew();
      return true;
    }
    const bits = this.pending();
    if (bits === undefined) return undefined;
    if ((bits & (1n << BigInt(n - 1))) === 0n) return false;
    // A blocked signal stays pending: this witness can see it only once. A new one for the next.
    this.renew();
    return true;
  }

  private renew(): void {
    this.close();
    this.endedBy = undefined;
    this.start();
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    if (child === undefined) return;
    child.stdin?.destroy();
    // Never without a PID: a spawn refused after its handle was made (EMFILE) has PID 0, and Node's kill() would
    // then signal the runner's whole process group.
    if (child.pid !== undefined && child.pid > 0) child.kill('SIGKILL');
  }
}

let envPath: { file: string | undefined } | undefined;

function signalWitness(signals: readonly NodeJS.Signals[]): SignalWitness | undefined {
  envPath ??= { file: findExecutable('env', process.env.PATH) };
  if (envPath.file === undefined || signals.some((s) => SIGNAL_NUMBERS[s] === undefined)) return undefined;
  return new BlockedSignalWitness(envPath.file, signals);
}

export const linux: Platform = {
  ...posixPlatform('linux', 'libc.so.6'),
  ownProcessTable,
  pidNamespace,
  startBytes,
  stopped,
  memoryFile,
  startTag,
  ancestors,
  kernelLockHolders,
  listenForRelease: (lockfile) =>
    new PosixReleaseWaiter(lockfile, 'inotify limits them (fs.inotify.max_user_instances, max_user_watches)'),
  prepareSpawn(command, options) {
    prepareSpawn();
    if (command !== undefined) wrapping(command, options ?? {});
  },
  spawnPlan,
  signalWitness,
};
