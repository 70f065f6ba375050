// The switches that show a safety test failing without the mechanism it
// tests: PIPLOCK_TEST_SABOTAGE=<switch> turns one off in the TEST (its helper
// processes included), never in the product. A name that is not a switch
// stops the run: a typo must not silently run the honest test instead.

export const SABOTAGE_ENV = 'PIPLOCK_TEST_SABOTAGE';

export const SABOTAGE_SWITCHES = [
  /** The holder processes say "locked" without locking (exclusion, interop, schedule, stress). */
  'nolock',
  /** The writer-preference loops poll the main lock without the gate. */
  'nogate',
  /** The unlink holders lock without the identity check after locking. */
  'nosamefile',
  /** The lock file replaced during a hold: a library holder, without the runner's guard. */
  'noguard',
  /** The replaced-lock test removes the holder's registry entry: a newcomer cannot see the holder of the earlier file. */
  'noholderentry',
  /** The nested-runner test's background job runs its command without a runner. */
  'nonested',
  /** The PID-namespace test's runner takes the host's PID for its own (programs/host-pid.ts): /proc looks like its own. */
  'noownproc',
  /** A setpriv first on PATH drops --pdeathsig: the command outlives a killed runner (Linux). */
  'nopdeathsig',
  /** The unjobbed-child helper does not arm the spawn guard (Windows). */
  'nospawnguard',
  /** This process's namespaced-path conversion is off (paths over 260 characters, Windows). */
  'nolongpath',
  /** flock(1) stands in for the runner in the signal and daemon tests (Linux). */
  'flock-runner',
  /** The appender processes write the event log at the size they read, without O_APPEND. */
  'noappend',
  /** The in-process action does not keep the lock file open: a copy of the launcher closes it (POSIX). */
  'noshare',
  /** The launcher's child runs the action without waiting for Node's plan (a copy of the launcher, POSIX). */
  'noplanwait',
  /** The gate-stall test's requests have no stall bound (programs/unbounded-request.ts): a busy gate holds them for good. */
  'nostallbound',
  /** The zero-file-ids preload shows the dummy FileId as 1 and error 124 as ERROR_INVALID_HANDLE: no fallback sees them (Windows). */
  'noidfallback',
  /** The kernel32 test's process reads STATUS_ACCESS_DENIED where the open answered STATUS_DELETE_PENDING: an error (Windows). */
  'nodeletepending',
] as const;

export type Sabotage = (typeof SABOTAGE_SWITCHES)[number];

/** The switch that is on, if any; throws on a value that is not a switch. */
export function activeSabotage(env: NodeJS.ProcessEnv = process.env): Sabotage | undefined {
  const value = env[SABOTAGE_ENV];
  if (value === undefined || value === '') return undefined;
  if (!(SABOTAGE_SWITCHES as readonly string[]).includes(value)) {
    throw new Error(
      `${SABOTAGE_ENV}=${JSON.stringify(value)} is not a sabotage switch; the switches are: ${SABOTAGE_SWITCHES.join(', ')}`,
    );
  }
  return value as Sabotage;
}

/** Whether the test runs with `name` switched off. */
export function sabotaged(name: Sabotage): boolean {
  return activeSabotage() === name;
}

// Checked when the first test or helper loads this module, before anything runs.
activeSabotage();
