import fs = require('node:fs');
import path = require('node:path');
import { ExpressionError } from '../../base/errors';
import type { GnPaths, Label } from './labels';
import { formatLabel, parseLabel, toolchainName } from './labels';
import { pySuffix } from './pypath';

/** A target as its .ninja files describe it. Paths are as written there, relative to the build directory. */
export interface TargetInfo {
  readonly label: Label;
  /** False when GN wrote no .ninja file that could describe the target. */
  readonly generated: boolean;
  readonly artifact: string | undefined;
  readonly objectFiles: readonly string[];
}

interface BuildStatement {
  readonly output: string;
  readonly variables: Map<string, string>;
}

// A build statement that is not phony; the greedy group ends at the last ": ".
const BUILD_STATEMENT = /^build (.+):[ \n](?!phony\b)/;

// Extensions of the main output of a link step, to choose it among several outputs (.elf over .map).
const MAIN_ARTIFACT_SUFFIXES = ['', '.elf', '.a', '.so', '.dylib', '.exe', '.lib', '.dll'];

// Object files. GN writes per-source variables on compile steps since 2022, so
// variables alone no longer tell a link step from a compile step.
const OBJECT_FILE = /\.(o|obj)$/;

/** A text file's lines with their terminators, after Python's universal-newline translation. */
function readLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\r\n?/g, '\n');
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function pySplit(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== '');
}

function chooseArtifact(outputs: string[]): string {
  if (outputs.length === 1) return outputs[0]!;
  const main = outputs.filter((p) => MAIN_ARTIFACT_SUFFIXES.includes(pySuffix(p)));
  if (main.length === 1) return main[0]!;
  throw new ExpressionError(
    `Expected 1, but found ${main.length} artifacts, after filtering for extensions ` +
      `${MAIN_ARTIFACT_SUFFIXES.map((e) => `'${e}'`).join(', ')}: [${outputs.map((o) => `'${o}'`).join(', ')}]`,
  );
}

/** The non-phony build statements of a .ninja file, each with its indented variables. */
export function parseBuildStatements(lines: readonly string[]): BuildStatement[] {
  const statements: BuildStatement[] = [];
  let current: BuildStatement | undefined;
  for (const line of lines) {
    if (current && line.startsWith('  ')) {
      const eq = line.indexOf('=');
      const key = (eq < 0 ? line : line.slice(0, eq)).trim();
      current.variables.set(key, eq < 0 ? '' : line.slice(eq + 1).trim());
      continue;
    }
    current = undefined;
    const m = BUILD_STATEMENT.exec(line);
    if (!m) continue;
    const outputs = pySplit(m[1]!);
    if (outputs.length === 0) continue;
    current = { output: chooseArtifact(outputs), variables: new Map() };
    statements.push(current);
  }
  return statements;
}

/** The main output and the object files of a target from its own <name>.ninja (binary targets). */
function searchTargetNinja(file: string, label: Label): { artifact: string | undefined; objects: string[] } {
  let artifact: string | undefined;
  const objects: string[] = [];
  for (const { output, variables } of parseBuildStatements(readLines(file))) {
    // Older GN stamped targets without an artifact.
    if (pySuffix(output) === '.stamp') continue;
    if (variables.size === 0 || OBJECT_FILE.test(output)) {
      objects.push(output);
    } else {
      if (artifact !== undefined) throw new ExpressionError(`Multiple artifacts for ${formatLabel(label)}!`);
      artifact = output;
    }
  }
  return { artifact, objects };
}

/**
 * Targets without a .ninja file of their own (actions, groups, copies) are in
 * toolchain.ninja: their stamp (older GN) or phony (newer GN) statement
 * names their single output, if they have just one.
 */
function searchToolchainNinja(file: string, label: Label): string | undefined {
  const tc = toolchainName(label);
  const rel = label.relativeDir === '.' ? '' : label.relativeDir;
  const stampDir = [tc, 'obj', rel].filter((s) => s !== '').join('/');
  const stampTool = tc === '' ? 'stamp' : `${tc}_stamp`;
  const phonyDir = [tc, 'phony', rel].filter((s) => s !== '').join('/');
  const statements = [
    `build ${phonyDir}/${label.name}: phony `,
    `build ${stampDir}/${label.name}.stamp: ${stampTool} `,
  ];
  for (const line of readLines(file)) {
    for (const statement of statements) {
      if (line.startsWith(statement)) {
        const outputs = pySplit(line.slice(statement.length));
        if (outputs.length === 1) return outputs[0];
        break;
      }
    }
  }
  return undefined;
}

/** Looks a label up in the .ninja files of the build directory. */
export function targetInfo(paths: GnPaths, text: string): TargetInfo {
  const api = paths.api ?? path;
  const label = parseLabel(paths, text);
  const own = api.join(label.outDir, `${label.name}.ninja`);
  try {
    if (fs.existsSync(own)) {
      const { artifact, objects } = searchTargetNinja(own, label);
      return { label, generated: true, artifact, objectFiles: objects };
    }
    const toolchainNinja = api.join(paths.build, toolchainName(label), 'toolchain.ninja');
    if (fs.existsSync(toolchainNinja)) {
      return { label, generated: true, artifact: searchToolchainNinja(toolchainNinja, label), objectFiles: [] };
    }
  } catch (err) {
    if (err instanceof ExpressionError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ExpressionError(`Cannot read the Ninja files for ${formatLabel(label)}: ${e.code ?? e.message}`);
  }
  return { label, generated: false, artifact: undefined, objectFiles: [] };
}
