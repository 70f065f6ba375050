// The driver for the holder process (test/support/programs/holder.ts): every test that
// needs the lock held by another process goes through here.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { LockMode } from '../../platform';
import { NODE, supportScript } from './paths';
import { exited } from './procs';

export interface HolderOptions {
  /** Lock with a bare platform handle (no gate, no identity check) instead of the library. */
  bare?: boolean;
  /** Try once and answer "busy" when the lock is taken, instead of waiting for it. */
  try?: boolean;
  /** Added to this process's environment (PIPLOCK_TEST_SABOTAGE passes through). */
  env?: NodeJS.ProcessEnv;
}

/** What the holder answered: it holds the lock, it was refused (with `try`), or it failed. */
export type HolderState = 'locked' | 'busy' | 'error';

export interface Holder {
  readonly child: ChildProcess;
  /** Resolves with the holder's first answer; rejects when it exits without one. */
  readonly state: Promise<HolderState>;
  /** The holder's first line as it printed it ("locked 1234", "error ..."), once it has answered. */
  readonly answer: string | undefined;
  /** Lets go (when locked) and resolves once the process has exited. */
  release(): Promise<void>;
  /** Kills the process (SIGKILL; TerminateProcess on Windows) and resolves once it has exited. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Starts a holder without waiting for its answer. */
export function spawnHolder(lockfile: string, mode: LockMode, options: HolderOptions = {}): Holder {
  const flags = [...(options.bare ? ['--bare'] : []), ...(options.try ? ['--try'] : [])];
  const child = spawn(NODE, [supportScript('programs/holder.js'), lockfile, mode, ...flags], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  running.add(child);
  // 'close', not 'exit': the last lines may still be in the pipe when the process has exited.
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void gone.then(() => running.delete(child));
  let out = '';
  let err = '';
  let answer: string | undefined;
  let released: Promise<void> | undefined;
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // A holder may end (a --try that found the lock busy, one that failed) between release()'s look at its exit
  // code and its write: EPIPE then says only that it has gone, which `gone` and its exit status tell.
  child.stdin!.on('error', () => {});
  const state = new Promise<HolderState>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.search(/\r?\n/);
      if (nl < 0 || answer !== undefined) return;
      answer = out.slice(0, nl);
      const word = answer.split(' ')[0];
      if (word === 'locked' || word === 'busy' || word === 'error') resolve(word);
      else reject(new Error(`holder said ${JSON.stringify(answer)}`));
    });
    child.once('error', reject);
    void gone.then(() =>
      reject(new Error(`holder exited (${child.exitCode ?? child.signalCode}) before answering: ${out}${err}`)),
    );
  });
  state.catch(() => {}); // a caller that only kills it need not look
  return {
    child,
    state,
    get answer() {
      return answer;
    },
    release() {
      released ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.stdin!.end('release\n');
        await gone;
        if (answer?.startsWith('locked') && !(child.exitCode === 0 && /^released$/m.test(out))) {
          throw new Error(`holder did not let go cleanly (exit ${child.exitCode ?? child.signalCode}): ${out}${err}`);
        }
      })();
      return released;
    },
    async kill() {
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/** A holder that holds the lock; rejects (and ends it) when it answers anything else. */
export async function startHolder(lockfile: string, mode: LockMode, options: HolderOptions = {}): Promise<Holder> {
  const holder = spawnHolder(lockfile, mode, options);
  let state: HolderState;
  try {
    state = await holder.state;
  } catch (e) {
    await holder.kill();
    throw e;
  }
  if (state !== 'locked') {
    await holder.kill();
    throw new Error(`holder of ${lockfile} (${mode}) answered '${holder.answer}', not 'locked'`);
  }
  return holder;
}

/** What another process gets when it tries `mode` on `lockfile` once now: 'locked' or 'busy'. */
export async function tryInChild(
  lockfile: string,
  mode: LockMode,
  options: Omit<HolderOptions, 'try'> = {},
): Promise<HolderState> {
  const holder = spawnHolder(lockfile, mode, { ...options, try: true });
  try {
    return await holder.state;
  } finally {
    await holder.release();
  }
}

/** Ends every holder still running (for an afterEach). */
export async function killHolders(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      child.kill('SIGKILL');
      await exited(child);
    }),
  );
}

// A test that fails before it lets its holder go would keep mocha from
// exiting: end what is left once the whole run is done.
after(killHolders);
