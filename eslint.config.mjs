// The lint: typescript-eslint's recommended rules, no import cycles, and the
// layering of docs/design.md: platform/ at the bottom, then src/base, src/lock,
// src/runner, src/commands, and the entries (src/cli.ts, src/index.ts) on top;
// each imports only from the floors below it.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Each floor and the floors above it, which it must not import from. */
const FLOORS = [
  ['platform', ['src', 'test', 'scripts', 'examples']],
  ['src/base', ['src/lock', 'src/runner', 'src/commands', 'src/cli.ts', 'src/index.ts']],
  ['src/lock', ['src/runner', 'src/commands', 'src/cli.ts', 'src/index.ts']],
  ['src/runner', ['src/commands', 'src/cli.ts', 'src/index.ts']],
  ['src/commands', ['src/cli.ts', 'src/index.ts']],
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.wine/', '.cache/', 'test/e2e/project/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver': { node: { extensions: ['.ts', '.js', '.mjs'] } },
    },
    rules: {
      'import-x/no-cycle': 'error',
      // Lazy require() keeps modules off the start-up path of every build action (docs/design.md).
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: FLOORS.map(([target, from]) => ({
            target: `./${target}`,
            from: from.map((f) => `./${f}`),
            message: 'layering (docs/design.md): a floor imports only from the floors below it',
          })),
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
