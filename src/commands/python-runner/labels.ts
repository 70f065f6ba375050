import path = require('node:path');
import { ExpressionError } from '../../base/errors';
import type { PathApi } from './pypath';

/** What is needed to turn GN labels into directories: all absolute, as python_runner.py's GnPaths. */
export interface GnPaths {
  /** The source root, `//`. */
  readonly root: string;
  /** The root build directory, in which GN runs actions. */
  readonly build: string;
  /** The directory of the BUILD.gn file that defined the action, for relative labels. */
  readonly cwd: string;
  /** The current toolchain's label, or '' in the default toolchain. */
  readonly toolchain: string;
  /** Path flavour; Node's own unless a test fixes one. */
  readonly api?: PathApi;
}

export function makeGnPaths(
  gnRoot: string,
  buildDir: string,
  currentPath: string,
  defaultToolchain: string,
  currentToolchain: string,
  api: PathApi = path,
): GnPaths {
  // Absolute without resolving symlinks, as Pigweed's runner has done since it stopped calling resolve().
  return {
    root: api.resolve(buildDir, gnRoot),
    build: api.resolve(buildDir),
    cwd: api.resolve(buildDir, currentPath),
    toolchain: currentToolchain !== defaultToolchain ? currentToolchain : '',
    api,
  };
}

/** A GN path ("//a/b" or relative to the BUILD file's directory) to an absolute directory. */
export function resolveGnPath(paths: GnPaths, gnPath: string): string {
  const api = paths.api ?? path;
  if (gnPath.startsWith('//')) return api.resolve(paths.root, gnPath.replace(/^\/+/, ''));
  return api.resolve(paths.cwd, gnPath);
}

export interface Label {
  readonly name: string;
  /** Absolute directory of the label. */
  readonly dir: string;
  /** The directory relative to the source root, with forward slashes; '.' for the root itself. */
  readonly relativeDir: string;
  readonly toolchain: Label | undefined;
  /** Absolute: <build>/<toolchain name>/obj/<relativeDir>. */
  readonly outDir: string;
  /** Absolute: <build>/<toolchain name>/gen/<relativeDir>. */
  readonly genDir: string;
}

/** The name of the label's toolchain (its target name), '' for the default toolchain. */
export function toolchainName(label: Label): string {
  return label.toolchain?.name ?? '';
}

/** The label written back out, as python_runner.py shows it in messages: "//dir:name(//toolchain:label)". */
export function formatLabel(label: Label): string {
  const text = `//${label.relativeDir}:${label.name}`;
  return label.toolchain ? `${text}(${formatLabel(label.toolchain)})` : text;
}

/**
 * Parses a GN label the way python_runner.py does: an explicit "(toolchain)"
 * suffix, else the current toolchain; ":name" optional, defaulting to the last
 * directory component; relative labels against the BUILD file's directory.
 */
export function parseLabel(paths: GnPaths, text: string): Label {
  const api = paths.api ?? path;
  let label = text;
  let toolchain: string;
  if (label.endsWith(')')) {
    const open = label.lastIndexOf('(', label.length - 2);
    if (open < 0) throw new ExpressionError(`Malformed label "${text}": ")" without "("`);
    toolchain = label.slice(open + 1, -1);
    label = label.slice(0, open);
  } else {
    // A toolchain's own label has no toolchain; this also ends the recursion.
    toolchain = paths.toolchain !== label ? paths.toolchain : '';
  }
  const tc = toolchain !== '' ? parseLabel(paths, toolchain) : undefined;

  const colon = label.lastIndexOf(':');
  const directory = colon >= 0 ? label.slice(0, colon) : label;
  const name = colon >= 0 ? label.slice(colon + 1) : label.slice(label.lastIndexOf('/') + 1);

  const dir = resolveGnPath(paths, directory);
  const rel = api.relative(paths.root, dir);
  if (rel === '..' || rel.startsWith(`..${api.sep}`) || api.isAbsolute(rel)) {
    throw new ExpressionError(`Label "${text}" is outside the GN root ${paths.root}`);
  }
  const relativeDir = rel === '' ? '.' : rel.split(api.sep).join('/');
  const tcName = tc?.name ?? '';
  return {
    name,
    dir,
    relativeDir,
    toolchain: tc,
    outDir: api.join(paths.build, tcName, 'obj', rel),
    genDir: api.join(paths.build, tcName, 'gen', rel),
  };
}
