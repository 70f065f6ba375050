/**
 * A whole GN build, with Pigweed's template and runner and with piplock's.
 *
 * The bench generates a GN project (in a temporary directory) with
 * ACTIONS pw_python_actions of four kinds, all with --capture-output:
 * scripts that only touch their stamp, scripts that import a test package
 * from the virtualenv (test/e2e/project/tools/use_pkg.py), modules run with
 * -m, and scripts with an environment setting and a working directory. Two
 * pip actions force-reinstall the package in the middle of the build: each
 * depends on a slice of the other actions, so that ninja starts it once
 * those are done, while importers that do not depend on it run. Each build
 * is a clean one (new build directory, gn gen, ninja -j JOBS); the two
 * variants alternate, and the bench reports the median wall time, the CPU
 * time of ninja and everything it waited for (with orphaned Node processes
 * reaped, see reaper.ts) and the failed actions.
 *
 * Two more variants, the floors, run each action in one Python start with no
 * runner: with a blocking flock, the least any locking runner could cost, and
 * with no lock, what the actions alone take.
 *
 * Pigweed's variant uses python_action.gni and python_runner.py from the
 * reference directory (shared/reference/, as the per-action bench finds
 * it), copied into the temporary project for the run; they are not part of
 * piplock.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeBuild } from './nodes';
import { becomeSubreaper, reapOrphans } from './reaper';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const E2E = path.join(ROOT, 'test', 'e2e', 'project');

export interface BuildRow {
  variant: string;
  seconds: number[];
  cpuSeconds: number[];
  failures: number[];
  /** From .ninja_log: the sum of every action's duration, and the two reinstalls' durations. */
  actionSeconds: number[];
  pipSeconds: number[];
}

/**
 * The floors: each action is one Python start that runs the script or module, with no runner. The locked floor
 * takes the lock as the cheapest correct runner would, a blocking flock(2) on pip.lock in that same Python
 * (exclusive for pip, shared for the rest; no writer preference, no timeout): no runner that locks can cost less
 * per action. The unlocked floor takes no lock at all (imports may fail while pip reinstalls): the build's wall
 * time under it is what the actions themselves and the two reinstalls take, side by side.
 */
const FLOOR_GNI = `declare_args() {
  bench_floor_lock = false
}

template("pw_python_action") {
  action(target_name) {
    forward_variables_from(invoker, [ "deps", "inputs", "outputs" ])
    script = "//floor/run.py"
    args = []
    if (defined(invoker.environment)) {
      foreach(e, invoker.environment) {
        args += [ "--env", e ]
      }
    }
    if (defined(invoker.working_directory)) {
      args += [ "--cwd", invoker.working_directory ]
    }
    if (bench_floor_lock) {
      _mode = "shared"
      if (defined(invoker.module) && invoker.module == "pip") {
        _mode = "exclusive"
      }
      args += [ "--lock", _mode ]
    }
    if (defined(invoker.stamp) && invoker.stamp) {
      _stamp = "$target_gen_dir/$target_name.pw_pystamp"
      outputs = [ _stamp ]
      args += [ "--stamp", rebase_path(_stamp, root_build_dir) ]
    }
    if (defined(invoker.module)) {
      args += [ "-m", invoker.module ]
    } else {
      args += [ rebase_path(invoker.script, root_build_dir) ]
    }
    args += [ "--" ]
    if (defined(invoker.args)) {
      args += invoker.args
    }
  }
}
`;

/** The floor's action: what `python [-m] TARGET ARGS` would do, plus the environment, working directory and stamp. */
const FLOOR_RUN = `import os, sys
argv = sys.argv[1:]
stamp = cwd = None
while argv[0] in ('--env', '--cwd', '--stamp', '--lock'):
    opt, value = argv.pop(0), argv.pop(0)
    if opt == '--lock':
        import fcntl
        lock_fd = os.open('pip.lock', os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(lock_fd, fcntl.LOCK_EX if value == 'exclusive' else fcntl.LOCK_SH)
    elif opt == '--env':
        k, _, v = value.partition('=')
        os.environ[k] = v
    elif opt == '--cwd':
        cwd = value
    else:
        stamp = os.path.abspath(value)
module = argv[0] == '-m'
if module:
    argv.pop(0)
target = argv.pop(0) if module else os.path.abspath(argv.pop(0))
assert argv.pop(0) == '--'
if cwd:
    os.chdir(cwd)
import runpy
sys.argv = [target] + argv
status = 0
try:
    if module:
        sys.path[0] = os.getcwd()
        runpy.run_module(target, run_name='__main__', alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(target)
        runpy.run_path(target, run_name='__main__')
except SystemExit as e:
    status = e.code
if status in (None, 0) and stamp:
    open(stamp, 'a').close()
    os.utime(stamp)
sys.exit(status)
`;

/** Sums ninja's log of the last build: every action's duration, and the reinstalls'. */
function ninjaLogSeconds(out: string): { actions: number; pip: number } {
  let actions = 0;
  let pip = 0;
  for (const line of fs.readFileSync(path.join(out, '.ninja_log'), 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f.length < 4 || line.startsWith('#')) continue;
    const seconds = (Number(f[1]) - Number(f[0])) / 1000;
    actions += seconds;
    if (/reinstall_/.test(f[3]!)) pip += seconds;
  }
  return { actions, pip };
}

export interface BuildResult {
  actions: number;
  jobs: number;
  rounds: number;
  node: string;
  rows: BuildRow[];
}

function childCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The BUILD.gn: `kinds` actions of each of four kinds, and two reinstalls in the middle. */
function buildFile(perKind: number): string {
  const lines: string[] = [
    'declare_args() {',
    '  bench_wheels = ""',
    '  bench_runner = "piplock"',
    '}',
    'if (bench_runner == "piplock") {',
    '  import("//third_party/piplock/gn/python_action.gni")',
    '} else if (bench_runner == "pigweed") {',
    '  import("//pw_build/python_action.gni")',
    '} else {',
    '  import("//floor/python_action.gni")',
    '}',
    '',
  ];
  const names: string[] = [];
  for (let i = 0; i < perKind; i++) {
    const n = String(i).padStart(3, '0');
    lines.push(`pw_python_action("noop_${n}") {`, '  script = "tools/noop.py"', '  stamp = true', '}');
    lines.push(
      `pw_python_action("use_${n}") {`,
      '  script = "tools/use_pkg.py"',
      `  args = [ rebase_path("$target_gen_dir/use_${n}.json", root_build_dir) ]`,
      `  outputs = [ "$target_gen_dir/use_${n}.json" ]`,
      '}',
    );
    lines.push(`pw_python_action("mod_${n}") {`, '  module = "benchmod"', `  args = [ "${n}" ]`, '  stamp = true', '}');
    lines.push(
      `pw_python_action("env_${n}") {`,
      '  script = "tools/env_wd.py"',
      `  environment = [ "BENCH_VALUE=${n}" ]`,
      '  working_directory = rebase_path("//", root_build_dir)',
      '  stamp = true',
      '}',
    );
    names.push(`noop_${n}`, `use_${n}`, `mod_${n}`, `env_${n}`);
  }
  // The reinstalls start once a quarter (and then half) of the actions are done; the rest runs beside them.
  const quarter = Math.floor(names.length / 4);
  const reinstall = (name: string, after: string[]): void => {
    lines.push(
      `pw_python_action("${name}") {`,
      '  module = "pip"',
      '  args = [ "install", "--quiet", "--no-index", "--no-cache-dir", "--disable-pip-version-check",',
      '           "--find-links", bench_wheels, "--force-reinstall", "--no-deps", "e2epkg" ]',
      '  stamp = true',
      `  deps = [ ${after.map((d) => `":${d}"`).join(', ')} ]`,
      '}',
    );
  };
  reinstall('reinstall_a', names.slice(0, quarter));
  reinstall('reinstall_b', names.slice(quarter, 2 * quarter));
  lines.push(
    'group("default") {',
    `  deps = [ ":reinstall_a", ":reinstall_b", ${names.map((d) => `":${d}"`).join(', ')} ]`,
    '}',
  );
  return lines.join('\n') + '\n';
}

function makeProject(work: string, reference: string, perKind: number): string {
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'tools'), { recursive: true });
  fs.writeFileSync(path.join(src, '.gn'), 'buildconfig = "//BUILDCONFIG.gn"\n');
  fs.copyFileSync(path.join(E2E, 'BUILDCONFIG.gn'), path.join(src, 'BUILDCONFIG.gn'));
  fs.cpSync(path.join(E2E, 'toolchain'), path.join(src, 'toolchain'), { recursive: true });
  for (const t of ['stamp.py', 'use_pkg.py', 'make_wheel.py'])
    fs.copyFileSync(path.join(E2E, 'tools', t), path.join(src, 'tools', t));
  fs.writeFileSync(path.join(src, 'tools', 'noop.py'), '');
  fs.writeFileSync(
    path.join(src, 'tools', 'env_wd.py'),
    "import os\nassert os.environ['BENCH_VALUE']\nprint(os.getcwd())\n",
  );
  fs.writeFileSync(path.join(src, 'tools', 'benchmod.py'), 'import sys\nprint(sys.argv[1:])\n');
  fs.writeFileSync(path.join(src, 'BUILD.gn'), buildFile(perKind));
  // Pigweed's files, from the reference directory, for the reference variant.
  const refDir = path.dirname(reference);
  fs.mkdirSync(path.join(src, 'build_overrides'));
  fs.writeFileSync(path.join(src, 'build_overrides', 'pigweed.gni'), 'dir_pw_build = "//pw_build"\n');
  fs.mkdirSync(path.join(src, 'pw_build', 'py', 'pw_build'), { recursive: true });
  fs.copyFileSync(path.join(refDir, 'python_action.gni'), path.join(src, 'pw_build', 'python_action.gni'));
  fs.copyFileSync(reference, path.join(src, 'pw_build', 'py', 'pw_build', 'python_runner.py'));
  fs.mkdirSync(path.join(src, 'floor'));
  fs.writeFileSync(path.join(src, 'floor', 'python_action.gni'), FLOOR_GNI);
  fs.writeFileSync(path.join(src, 'floor', 'run.py'), FLOOR_RUN);
  fs.mkdirSync(path.join(src, 'third_party'));
  fs.symlinkSync(ROOT, path.join(src, 'third_party', 'piplock'), 'dir');
  return src;
}

export function wholeBuild(opts: {
  python: string;
  reference: string;
  node: NodeBuild;
  actions: number;
  jobs: number;
  rounds: number;
}): BuildResult {
  becomeSubreaper();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-bench-build-'));
  try {
    const perKind = Math.ceil(opts.actions / 4);
    const src = makeProject(work, opts.reference, perKind);
    const wheels = path.join(work, 'wheels');
    run(opts.python, [path.join(src, 'tools', 'make_wheel.py'), wheels, '200', '10'], work);
    const venv = path.join(work, 'venv');
    run(opts.python, ['-m', 'venv', venv], work);
    const py = path.join(venv, 'bin', 'python3');
    run(
      py,
      ['-m', 'pip', 'install', '-q', '--no-index', '--disable-pip-version-check', '--find-links', wheels, 'e2epkg'],
      work,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: [path.join(venv, 'bin'), process.env.PATH].join(path.delimiter),
    };
    delete env.PIPLOCK_IN_PROCESS;
    const variants: Array<[string, string]> = [
      ["Pigweed's template and python_runner.py", 'bench_runner="pigweed"'],
      [`piplock, in process, Node ${opts.node.version}`, `bench_runner="piplock" piplock_node="${opts.node.bin}"`],
      [
        `piplock, fresh interpreters (piplock_in_process=false), Node ${opts.node.version}`,
        `bench_runner="piplock" piplock_node="${opts.node.bin}" piplock_in_process=false`,
      ],
      ['the locked floor: no runner, a blocking flock in the action', 'bench_runner="none" bench_floor_lock=true'],
      ['the unlocked floor: no runner, no lock (unsafe)', 'bench_runner="none"'],
    ];
    const rows: BuildRow[] = variants.map(([variant]) => ({
      variant,
      seconds: [],
      cpuSeconds: [],
      failures: [],
      actionSeconds: [],
      pipSeconds: [],
    }));
    for (let r = 0; r < opts.rounds; r++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + r) % variants.length;
        const out = path.join(work, `out${i}`);
        fs.rmSync(out, { recursive: true, force: true });
        const gnArgs = `e2e_python="${py}" bench_wheels="${wheels}" ${variants[i]![1]}`;
        run('gn', ['gen', out, `--script-executable=${py}`, `--args=${gnArgs}`], src, env);
        // `python -m benchmod` runs in the build directory, sys.path[0].
        fs.copyFileSync(path.join(src, 'tools', 'benchmod.py'), path.join(out, 'benchmod.py'));
        const cpu0 = childCpuSeconds();
        const t = performance.now();
        const res = spawnSync('ninja', ['-C', out, '-j', String(opts.jobs), '-k', '0'], {
          env,
          encoding: 'utf8',
          maxBuffer: 256 << 20,
        });
        const seconds = (performance.now() - t) / 1000;
        reapOrphans();
        rows[i]!.seconds.push(seconds);
        rows[i]!.cpuSeconds.push(childCpuSeconds() - cpu0);
        rows[i]!.failures.push((res.stdout.match(/^FAILED: /gm) ?? []).length);
        const logged = ninjaLogSeconds(out);
        rows[i]!.actionSeconds.push(logged.actions);
        rows[i]!.pipSeconds.push(logged.pip);
        const first = /^FAILED: [\s\S]*?(?=^\[\d+\/\d+\] |^ninja: )/m.exec(res.stdout);
        if (first)
          process.stderr.write(`bench: ${variants[i]![0]}: the first failed action:\n${first[0].slice(0, 2000)}\n`);
        if (res.status !== 0 && !/^FAILED: /m.test(res.stdout))
          throw new Error(`ninja failed without a failed action:\n${res.stdout}\n${res.stderr}`);
      }
    }
    return { actions: perKind * 4, jobs: opts.jobs, rounds: opts.rounds, node: opts.node.version, rows };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
