/**
 * Stress harness: N workers each make M acquisitions of one lock file,
 * mixing every kind of participant, while random ones are SIGKILLed
 * (TerminateProcess on Windows); then the checker proves from the shared log
 * that no exclusive holder overlapped any other holder.
 *
 * usage: node dist/scripts/stress/stress.js [--workers N] [--acquisitions M]
 *        [--long] [--kill-rate P] [--exclusive-percent P] [--kinds K,...]
 *        [--faults F,...] [--min-hold MS] [--lock-timeout S] [--deadline S]
 *        [--no-lock] [--keep] [--dir D]
 *
 * --faults adds fault kinds beside the kills:
 *   delete     the lock file is deleted at random moments, holders and waiting
 *              writers on it; only piplock runners take part then (flock(1), the
 *              reference runner and the library have no watch and no registry:
 *              docs/design.md says what remains for them)
 *   stop       random participants are stopped (SIGSTOP) for up to 6 s, holding
 *              or waiting, then continued (POSIX)
 *   nested     'cli-nested' participants: a runner whose command starts a nested
 *              runner in the background and exits, so that the nested one
 *              outlives its ancestor (only piplock runners take part then)
 *   namespace  'cli-ns' participants: runners in a PID namespace of their own
 *              (unshare -p -f --mount-proc; Linux, where allowed) on the same
 *              build directory; with delete or nested as well, the registry
 *              must tell live runners of the other namespaces from dead ones
 *
 * --no-lock is the harness's own switch to check the checker: every
 * participant gets a lock file of its own, so nothing excludes anything and
 * the checker must report violations. It is not a piplock feature.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { check } from './checker';
import type { CheckResult } from './checker';
import { acquire } from '../../src/lock/acquire';
import { sideDir } from '../../platform/paths';
import { lockStatus } from '../../src/runner/holders';
import type { StatusEntry } from '../../src/runner/holders';
import { isEntryFileName } from '../../src/runner/registry';

const IS_WINDOWS = process.platform === 'win32';
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'piplock.js');
const REFERENCE_LOCK = path.join(ROOT, 'scripts', 'reference-lock.py');
const HOLD_SH = path.join(ROOT, 'scripts', 'stress', 'hold.sh');
const HOLD_JS = path.join(__dirname, 'hold.js');
const LIB_HOLDER = path.join(__dirname, 'lib-holder.js');

export const ALL_KINDS = [
  'cli-shared',
  'cli-exclusive',
  'cli-auto-pip',
  'cli-auto',
  'lib',
  'reference-shared',
  'reference-pip',
  'flock-s',
  'flock-x',
  'cli-nested',
  'cli-ns',
] as const;
export type Kind = (typeof ALL_KINDS)[number];

const FAULTS = ['delete', 'stop', 'nested', 'namespace'] as const;
export type Fault = (typeof FAULTS)[number];
/** The kinds that are piplock runners, the only ones a deleted lock file keeps excluding. */
const RUNNER_KINDS: readonly Kind[] = [
  'cli-shared',
  'cli-exclusive',
  'cli-auto-pip',
  'cli-auto',
  'cli-nested',
  'cli-ns',
];

export interface StressOptions {
  workers: number;
  acquisitions: number;
  /** Chance that a participant is SIGKILLed at a random moment of its life. */
  killRate: number;
  /** Kills land within this long after the start of a participant. */
  killWindowMs: number;
  /** Check the checker: no participant shares a lock file. */
  noLock: boolean;
  /** Kinds to use; default: all that this machine has. */
  kinds?: Kind[];
  /** Fault kinds beside the kills. */
  faults: Fault[];
  /** Percentage of exclusive acquisitions among the lib and explicit-mode kinds. */
  exclusivePct: number;
  /** Every holder holds at least this long (the check-the-checker run needs overlaps). */
  minHoldMs: number;
  /** The lock timeout of every piplock participant: a lock stuck for good shows up as errors, not as a hang. */
  lockTimeoutMs: number;
  /**
   * After this long no new participant starts, and any still running 30 s
   * later is killed and reported as an error: the run always ends.
   */
  deadlineMs: number;
  dir?: string;
  keep: boolean;
  progress?: (line: string) => void;
}

export interface StressSummary extends CheckResult {
  participants: number;
  kills: number;
  /** Participants that failed without being killed: status and stderr. */
  errors: string[];
  elapsedMs: number;
  throughput: number;
  /** Whether the lock was free once every participant had gone. */
  freeAfter: boolean;
  /** Registry entries left by killed runners, found once every participant had gone. */
  leftEntries: number;
  /** What `piplock status` showed then: must be nothing (no ghosts). */
  statusAfter: StatusEntry[];
  kindsUsed: Kind[];
  /** Lock file deletions and stops made by the faults. */
  deletions: number;
  stops: number;
  dir: string;
  logFile: string;
}

export function defaultOptions(): StressOptions {
  return {
    workers: IS_WINDOWS ? 4 : 16,
    acquisitions: IS_WINDOWS ? 12 : 200,
    killRate: 0.04,
    killWindowMs: IS_WINDOWS ? 1500 : 400,
    noLock: false,
    faults: [],
    exclusivePct: 15,
    minHoldMs: 0,
    lockTimeoutMs: 30 * 60_000,
    deadlineMs: Infinity,
    keep: false,
  };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, command)));
}

/** The kinds this machine can run: the reference lock script needs python3, flock(1) is Linux's. */
export function availableKinds(): Kind[] {
  const kinds: Kind[] = ['cli-shared', 'cli-exclusive', 'cli-auto-pip', 'cli-auto', 'lib'];
  if (!IS_WINDOWS && onPath('python3')) kinds.push('reference-shared', 'reference-pip');
  if (!IS_WINDOWS && onPath('flock')) kinds.push('flock-s', 'flock-x');
  return kinds;
}

/** Whether runners can be put in PID namespaces of their own here. */
function namespacesAllowed(): boolean {
  if (process.platform !== 'linux') return false;
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync('unshare', ['-p', '-f', '--mount-proc', '--', 'true'], { stdio: 'ignore' }).status === 0;
}

/** The kinds of a run: those asked for or available, with the faults' own kinds added, and only runners with deletions. */
export function kindsFor(opts: Pick<StressOptions, 'kinds' | 'faults'>): Kind[] {
  let kinds = opts.kinds ?? availableKinds();
  if (opts.faults.includes('nested') && !kinds.includes('cli-nested')) kinds = [...kinds, 'cli-nested'];
  if (opts.faults.includes('namespace') && !kinds.includes('cli-ns')) {
    if (!namespacesAllowed()) throw new Error('--faults namespace: unshare -p -f --mount-proc is not allowed here');
    kinds = [...kinds, 'cli-ns'];
  }
  // A deleted lock file, or a nested runner whose ancestor has let go, keeps only piplock runners out (design.md).
  if (opts.faults.includes('delete') || opts.faults.includes('nested'))
    kinds = kinds.filter((k) => RUNNER_KINDS.includes(k));
  return kinds;
}

/** A `pip` on PATH that is really the holder command, so that `--mode auto` classifies it as pip. */
function makeFakePip(bin: string): string[] {
  fs.mkdirSync(bin, { recursive: true });
  if (IS_WINDOWS) {
    // spawn() cannot run a .cmd without a shell: make pip.exe a copy of node.exe.
    const exe = path.join(bin, 'pip.exe');
    try {
      fs.linkSync(process.execPath, exe);
    } catch {
      fs.copyFileSync(process.execPath, exe);
    }
    return ['pip', HOLD_JS];
  }
  const pip = path.join(bin, 'pip');
  fs.writeFileSync(pip, `#!/bin/sh\nexec bash '${HOLD_SH}' "$@"\n`, { mode: 0o755 });
  return ['pip'];
}

function envWithPath(bin: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[key] = bin + path.delimiter + (env[key] ?? '');
  return env;
}

const STUCK_GRACE_MS = 30_000;

interface Live {
  child: ChildProcess;
  participant: string;
  kind: Kind;
  group: boolean;
  exited: boolean;
  killed: boolean;
}

export async function runStress(opts: StressOptions): Promise<StressSummary> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-stress-'));
  fs.mkdirSync(dir, { recursive: true });
  const lockfile = path.join(dir, 'pip.lock');
  const logFile = path.join(dir, 'holders.log');
  const bin = path.join(dir, 'bin');
  const pip = makeFakePip(bin);
  // The reference lock script gets the fake pip by its full path: a pyenv python3 shim puts its own bin first on PATH.
  const referencePip = IS_WINDOWS ? pip : [path.join(bin, 'pip')];
  const env = envWithPath(bin, opts.noLock ? { PIPLOCK_STRESS_NOLOCK: '1' } : {});
  const logFd = fs.openSync(logFile, 'a');
  const kinds = kindsFor(opts);
  const hold = (): string[] => (IS_WINDOWS ? [process.execPath, HOLD_JS] : ['bash', HOLD_SH]);
  const errors: string[] = [];
  let kills = 0;
  let participants = 0;
  const started = performance.now();

  const lockFor = (participant: string): string => (opts.noLock ? `${lockfile}.${participant}` : lockfile);
  const randomMode = (): 'shared' | 'exclusive' => (Math.random() * 100 < opts.exclusivePct ? 'exclusive' : 'shared');

  function commandFor(
    kind: Kind,
    participant: string,
    victim: boolean,
  ): { argv: string[]; count: number; group: boolean } {
    // A participant chosen to be killed holds longer, so that the kill often finds it holding rather than waiting.
    const holdMax = Math.max(victim ? opts.killWindowMs : 10, opts.minHoldMs + 1);
    const holdMs = (): string => String(opts.minHoldMs + Math.floor(Math.random() * (holdMax - opts.minHoldMs)));
    const id = `${participant}.0`;
    const lock = lockFor(participant);
    const timeout = `${opts.lockTimeoutMs}ms`;
    const seconds = String(opts.lockTimeoutMs / 1000);
    const cli = (mode: string, cmd: string[]): string[] => [
      process.execPath,
      CLI,
      '--lockfile',
      lock,
      '--mode',
      mode,
      '--timeout',
      timeout,
      '--',
      ...cmd,
    ];
    switch (kind) {
      case 'cli-shared':
        return { argv: cli('shared', [...hold(), logFile, id, 'shared', holdMs()]), count: 1, group: false };
      case 'cli-exclusive':
        return { argv: cli('exclusive', [...hold(), logFile, id, 'exclusive', holdMs()]), count: 1, group: false };
      case 'cli-auto-pip':
        return { argv: cli('auto', [...pip, logFile, id, 'exclusive', holdMs()]), count: 1, group: false };
      case 'cli-auto':
        return { argv: cli('auto', [...hold(), logFile, id, 'shared', holdMs()]), count: 1, group: false };
      case 'lib': {
        const count = 1 + Math.floor(Math.random() * 5);
        const holdArgs = [String(opts.minHoldMs), String(holdMax), String(opts.lockTimeoutMs)];
        return {
          argv: [
            process.execPath,
            LIB_HOLDER,
            lock,
            logFile,
            participant,
            String(count),
            String(opts.exclusivePct),
            ...holdArgs,
          ],
          count,
          group: false,
        };
      }
      // The reference lock script's command does not inherit its lock: kill its whole process group, as a crash of the action would.
      case 'reference-shared':
        return {
          argv: [
            'python3',
            REFERENCE_LOCK,
            '--lockfile',
            lock,
            '--mode',
            'auto',
            '--timeout',
            seconds,
            '--',
            ...hold(),
            logFile,
            id,
            'shared',
            holdMs(),
          ],
          count: 1,
          group: true,
        };
      case 'reference-pip':
        return {
          argv: [
            'python3',
            REFERENCE_LOCK,
            '--lockfile',
            lock,
            '--mode',
            'auto',
            '--timeout',
            seconds,
            '--',
            ...referencePip,
            logFile,
            id,
            'exclusive',
            holdMs(),
          ],
          count: 1,
          group: true,
        };
      // flock(1)'s command inherits the locked descriptor, so killing flock alone leaves the lock with its command.
      case 'flock-s':
        return {
          argv: ['flock', '-s', '-w', seconds, lock, ...hold(), logFile, id, 'shared', holdMs()],
          count: 1,
          group: false,
        };
      case 'flock-x':
        return {
          argv: ['flock', '-x', '-w', seconds, lock, ...hold(), logFile, id, 'exclusive', holdMs()],
          count: 1,
          group: false,
        };
      // The outer runner's command starts a nested runner in the background, under the outer's lock, and exits as soon
      // as the nested command holds: the nested runner outlives its ancestor. Only the nested command logs.
      case 'cli-nested': {
        const mode = randomMode();
        const inner = [process.execPath, CLI, '--lockfile', lock, '--mode', mode, '--timeout', timeout, '--'];
        const nestedHold = [...inner, ...hold(), logFile, `${participant}.1`, mode, holdMs()];
        const script = `const {spawn}=require('child_process');const fs=require('fs');
const c=spawn(process.argv[1],process.argv.slice(2),{stdio:'ignore'});c.unref();
const id=${JSON.stringify(`E ${participant}.1 `)};
const t=setInterval(()=>{try{if(fs.readFileSync(${JSON.stringify(logFile)},'latin1').includes(id))process.exit(0)}catch{}},5);
c.on('exit',()=>process.exit(0));`;
        return { argv: cli(mode, [process.execPath, '-e', script, ...nestedHold]), count: 1, group: false };
      }
      // A runner in a PID namespace of its own; --kill-child: killing unshare kills the namespace, runner and command.
      case 'cli-ns': {
        const mode = randomMode();
        return {
          argv: [
            'unshare',
            '-p',
            '-f',
            '--mount-proc',
            '--kill-child',
            '--',
            ...cli(mode, [...hold(), logFile, id, mode, holdMs()]),
          ],
          count: 1,
          group: false,
        };
      }
    }
  }

  function kill(live: Live): void {
    if (live.exited) return;
    // K first: the checker ends the killed holder's interval here, before the lock can have been released.
    fs.writeSync(logFd, `K ${live.participant}\n`);
    live.killed = true;
    kills++;
    try {
      if (live.group) process.kill(-live.child.pid!, 'SIGKILL');
      else live.child.kill('SIGKILL'); // TerminateProcess on Windows
    } catch {
      // it exited meanwhile
    }
  }

  const live = new Set<Live>();
  function runOne(kind: Kind, participant: string): { count: number; done: Promise<void> } {
    const victim = Math.random() < opts.killRate;
    const { argv, count, group } = commandFor(kind, participant, victim);
    participants++;
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
      detached: group && !IS_WINDOWS,
    });
    const me: Live = { child, participant, kind, group: group && !IS_WINDOWS, exited: false, killed: false };
    live.add(me);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (victim) timer = setTimeout(() => kill(me), Math.random() * opts.killWindowMs);
    const done = new Promise<void>((resolve) => {
      const finish = (): void => {
        live.delete(me);
        resolve();
      };
      child.on('error', (err) => {
        errors.push(`${kind} ${participant}: ${err.message}`);
        me.exited = true;
        finish();
      });
      // 'exit', not 'close': a process that inherited the stderr pipe may outlive the participant.
      // Under Wine that happens when a runner is killed while libuv has its command created but
      // still suspended, before the job that would kill it: the command then never runs.
      child.on('exit', (code, signal) => {
        me.exited = true;
        if (timer) clearTimeout(timer);
        const report = (): void => {
          if (!me.killed && code !== 0)
            errors.push(`${kind} ${participant}: exit ${code ?? signal}: ${stderr.trim().slice(-300)}`);
          finish();
        };
        if (child.stderr!.readableEnded) return report();
        const drained = setTimeout(() => {
          child.stderr!.destroy();
          report();
        }, 2000);
        child.stderr!.once('end', () => {
          clearTimeout(drained);
          report();
        });
      });
    });
    return { count, done };
  }

  // One in five participants is the library (its own mix of modes); the others are exclusive exclusivePct% of the time.
  const EXCLUSIVE_KINDS: Kind[] = ['cli-exclusive', 'cli-auto-pip', 'reference-pip', 'flock-x'];
  const exclusiveKinds = kinds.filter((k) => EXCLUSIVE_KINDS.includes(k));
  const sharedKinds = kinds.filter((k) => k !== 'lib' && !EXCLUSIVE_KINDS.includes(k));
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  function pickKind(): Kind {
    if (kinds.includes('lib') && (Math.random() < 0.2 || (exclusiveKinds.length === 0 && sharedKinds.length === 0)))
      return 'lib';
    const mode = randomMode();
    const from = mode === 'exclusive' ? exclusiveKinds : sharedKinds;
    return pick(from.length > 0 ? from : kinds);
  }

  // The faults beside the kills, until the workers are done.
  let deletions = 0;
  let stops = 0;
  const chaos: NodeJS.Timeout[] = [];
  if (opts.faults.includes('delete')) {
    chaos.push(
      setInterval(() => {
        if (Math.random() < 0.3) {
          try {
            fs.unlinkSync(lockfile);
            deletions++;
          } catch {
            // not there (yet), or, on Windows, not deletable while open
          }
        }
      }, 300),
    );
  }
  if (opts.faults.includes('stop') && !IS_WINDOWS) {
    chaos.push(
      setInterval(() => {
        const candidates = [...live].filter((l) => !l.exited && !l.group);
        if (candidates.length === 0 || Math.random() < 0.5) return;
        const victim = pick(candidates);
        try {
          victim.child.kill('SIGSTOP');
          stops++;
        } catch {
          return;
        }
        setTimeout(
          () => {
            try {
              victim.child.kill('SIGCONT');
            } catch {
              // gone meanwhile
            }
          },
          500 + Math.random() * 5500,
        );
      }, 700),
    );
  }

  let lastProgress = performance.now();
  let made = 0;
  async function worker(w: number): Promise<void> {
    let n = 0;
    for (let i = 0; n < opts.acquisitions && performance.now() - started < opts.deadlineMs; i++) {
      const kind = pickKind();
      const { count, done } = runOne(kind, `w${w}-${i}-${kind}`);
      n += count;
      made += count;
      await done;
      if (opts.progress && performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        opts.progress(`${made} of ${opts.workers * opts.acquisitions} acquisitions started, ${kills} kills`);
      }
    }
  }
  // Past the deadline, and a grace for the last participants, whoever still runs is stuck: kill and report it.
  let stuckTimer: NodeJS.Timeout | undefined;
  if (Number.isFinite(opts.deadlineMs)) {
    stuckTimer = setTimeout(() => {
      for (const l of live) {
        errors.push(`${l.kind} ${l.participant}: still running ${STUCK_GRACE_MS / 1000} s after the deadline, killed`);
        kill(l);
      }
    }, opts.deadlineMs + STUCK_GRACE_MS);
  }
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  for (const t of chaos) clearInterval(t);
  clearTimeout(stuckTimer);
  // Nested runners that outlive their participants finish on their own; wait for them before looking.
  if (opts.faults.includes('nested')) await new Promise((r) => setTimeout(r, Math.max(2000, opts.killWindowMs * 2)));
  const elapsedMs = performance.now() - started;
  fs.closeSync(logFd);

  // Killed runners leave their registry entries behind; status must show none of them.
  let leftEntries = 0;
  let statusAfter: StatusEntry[] = [];
  if (!opts.noLock) {
    try {
      leftEntries = fs.readdirSync(sideDir(lockfile)).filter((n) => isEntryFileName(n)).length;
    } catch {
      // no registry directory: nobody ever waited or held through the CLI
    }
    statusAfter = lockStatus(lockfile);
  }
  // Nothing may stay locked once every participant has gone (an orphaned command would show up here too).
  let freeAfter = true;
  if (!opts.noLock) {
    try {
      (await acquire(lockfile, { mode: 'exclusive', timeoutMs: 10_000 })).release();
    } catch {
      freeAfter = false;
    }
  }
  const result = check(fs.readFileSync(logFile, 'utf8'));
  if (!opts.keep && result.violations.length === 0 && errors.length === 0) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Windows: pip.exe, a link to the running node.exe, cannot be deleted while node runs
    }
  }
  return {
    ...result,
    participants,
    kills,
    errors,
    elapsedMs,
    throughput: result.acquisitions / (elapsedMs / 1000),
    freeAfter,
    leftEntries,
    statusAfter,
    kindsUsed: kinds,
    deletions,
    stops,
    dir,
    logFile,
  };
}

export function formatSummary(s: StressSummary, opts: StressOptions): string {
  const lines = [
    `piplock stress: ${opts.workers} workers x ${opts.acquisitions} acquisitions${opts.noLock ? ' (--no-lock: locking OFF, checking the checker)' : ''}`,
    `  participants:  ${s.participants} (${s.kindsUsed.join(', ')})`,
    `  acquisitions:  ${s.acquisitions} (${s.exclusive} exclusive, ${s.shared} shared), at most ${s.maxConcurrent} inside at once`,
    `  kills:         ${s.kills} (${s.killedHolding} while holding)`,
    `  faults:        ${opts.faults.length === 0 ? 'none' : `${opts.faults.join(', ')}: ${s.deletions} lock file deletions, ${s.stops} stops`}`,
    `  violations:    ${s.violations.length}`,
    `  malformed:     ${s.malformed.length}`,
    `  errors:        ${s.errors.length}`,
    `  lock free after: ${s.freeAfter ? 'yes' : 'NO'}`,
    `  status after:  ${s.statusAfter.length === 0 ? 'nothing listed' : `${s.statusAfter.length} GHOST(S): ${s.statusAfter.map((e) => `${e.pid} ${e.state}`).join(', ')}`} (registry entries left by killed runners: ${s.leftEntries})`,
    `  longest wait:  ${s.longestWaitMs.toFixed(0)} ms (library participants, acquire() call to lock held)`,
    `  elapsed:       ${(s.elapsedMs / 1000).toFixed(1)} s, throughput ${s.throughput.toFixed(1)} acquisitions/s`,
  ];
  for (const v of s.violations.slice(0, 5))
    lines.push(`  VIOLATION line ${v.line}: ${v.entered} (${v.mode}) entered while ${v.inside.join(', ')} inside`);
  for (const e of s.errors.slice(0, 5)) lines.push(`  ERROR ${e}`);
  for (const m of s.malformed.slice(0, 5)) lines.push(`  MALFORMED ${JSON.stringify(m)}`);
  if (s.violations.length || s.errors.length || s.malformed.length) lines.push(`  log kept in ${s.logFile}`);
  return lines.join('\n') + '\n';
}

/** A list of names from `choices`, each checked: an unknown one is named, with the list it is not in. */
function names<T extends string>(option: string, value: string, choices: readonly T[]): T[] {
  const list = value.split(',').filter((v) => v !== '');
  if (list.length === 0) throw new Error(`--${option} needs at least one of: ${choices.join(', ')}`);
  for (const v of list)
    if (!(choices as readonly string[]).includes(v))
      throw new Error(`--${option}: unknown ${option.replace(/s$/, '')} '${v}' (the ${option}: ${choices.join(', ')})`);
  return list as T[];
}

/** A number of at least `min` (and an integer where asked), or an error naming the option. */
function numberOf(option: string, value: string, min: number, integer = false): number {
  const v = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
    throw new Error(`--${option} needs ${integer ? 'a whole number' : 'a number'} of at least ${min}, not '${value}'`);
  return v;
}

export function parseStressArgs(argv: string[]): StressOptions {
  const { parseArgs } = require('node:util') as typeof import('node:util');
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      workers: { type: 'string' },
      acquisitions: { type: 'string' },
      long: { type: 'boolean' },
      'kill-rate': { type: 'string' },
      'exclusive-percent': { type: 'string' },
      kinds: { type: 'string' },
      faults: { type: 'string' },
      deadline: { type: 'string' },
      'lock-timeout': { type: 'string' },
      'min-hold': { type: 'string' },
      'no-lock': { type: 'boolean' },
      keep: { type: 'boolean' },
      dir: { type: 'string' },
    },
  });
  const opts = defaultOptions();
  if (values.long) {
    opts.workers = 16;
    opts.acquisitions = 1300; // 20,800 attempts: at least 20,000 completed after the kills
    opts.killRate = 0.015;
  }
  if (values.workers !== undefined) opts.workers = numberOf('workers', values.workers, 1, true);
  if (values.acquisitions !== undefined) opts.acquisitions = numberOf('acquisitions', values.acquisitions, 1, true);
  if (values['kill-rate'] !== undefined) {
    opts.killRate = numberOf('kill-rate', values['kill-rate'], 0);
    if (opts.killRate > 1) throw new Error(`--kill-rate is a chance from 0 to 1, not '${values['kill-rate']}'`);
  }
  if (values['exclusive-percent'] !== undefined) {
    opts.exclusivePct = numberOf('exclusive-percent', values['exclusive-percent'], 0);
    if (opts.exclusivePct > 100)
      throw new Error(`--exclusive-percent is from 0 to 100, not '${values['exclusive-percent']}'`);
  }
  if (values.kinds !== undefined) opts.kinds = names('kinds', values.kinds, ALL_KINDS);
  if (values.faults !== undefined) opts.faults = names('faults', values.faults, FAULTS);
  if (values.deadline !== undefined) opts.deadlineMs = numberOf('deadline', values.deadline, 1) * 1000;
  if (values['lock-timeout'] !== undefined)
    opts.lockTimeoutMs = numberOf('lock-timeout', values['lock-timeout'], 0) * 1000;
  if (values['min-hold'] !== undefined) opts.minHoldMs = numberOf('min-hold', values['min-hold'], 0);
  if (values['no-lock']) opts.noLock = true;
  if (values.keep) opts.keep = true;
  if (values.dir !== undefined) {
    if (values.dir === '') throw new Error('--dir needs a directory');
    opts.dir = values.dir;
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: StressOptions;
  try {
    opts = parseStressArgs(process.argv.slice(2));
  } catch (err) {
    fs.writeSync(2, `stress: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  opts.progress = (l) => void fs.writeSync(2, `stress: ${l}\n`);
  const s = await runStress(opts);
  fs.writeSync(1, formatSummary(s, opts));
  const failed =
    s.violations.length > 0 ||
    s.malformed.length > 0 ||
    s.errors.length > 0 ||
    !s.freeAfter ||
    s.statusAfter.length > 0;
  process.exit(failed ? 1 : 0);
}

if (require.main === module) void main();
