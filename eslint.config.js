// Lint: recommended JS + TypeScript rules, type-aware where it catches real bugs (floating promises).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';


// Dependency rules (docs/architecture.md, "Layers"): a module imports only from its own layer or below.
// Patterns match import specifiers; `!` lines are allowed exceptions.
const IO_MODULES = ['node:fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:worker_threads', 'better-sqlite3', 'kysely', 'pg', 'pino', '@aws-sdk/*'];
// The pure modules beside media/plan and media/request (docs/architecture.md, "What is pure").
const PURE_MEDIA_MODULES = ['src/media/job.ts', 'src/media/media-info.ts', 'src/media/media-meta.ts', 'src/media/ffprobe-json.ts', 'src/media/output-name.ts', 'src/media/limits.ts', 'src/media/verify.ts'];
const layer = (files, forbidden, why) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message: why }] }] },
});
const dependencyRules = [
  layer(['src/storage/**/*.ts'], ['**/http/*', '**/tasks/*', '**/notify/*', '**/media/*', '**/projects/*', '**/app.js', '**/cli/*'], 'storage sits below http, tasks, notify, media and projects (docs/architecture.md).'),
  layer(['src/db/**/*.ts'], ['**/storage/*', '**/auth/*', '**/media/*', '**/tasks/*', '**/notify/*', '**/projects/*', '**/http/*', '**/observability/*', '**/app.js', '**/cli/*'], 'db imports no domain module (docs/architecture.md).'),
  layer(['src/media/**/*.ts'], ['**/db/*', '**/tasks/*', '**/notify/*', '**/projects/*', '**/http/*', '**/observability/*', '**/app.js', '**/cli/*'], 'media sits below tasks, notify, projects and http (docs/architecture.md).'),
  layer(['src/media/plan/**/*.ts', 'src/media/request/**/*.ts', ...PURE_MEDIA_MODULES], [...IO_MODULES, '**/engine/*', '**/storage/*', '!**/storage/names.js', '**/db/*', '**/tasks/*', '**/notify/*', '**/http/*', '**/projects/*', '**/observability/*', '**/app.js', '**/cli/*'], 'media/plan, media/request and the pure media modules are pure: no I/O, no engine, storage, db, tasks, notify or http (docs/architecture.md).'),
  // (flat config: the last matching block wins, so the specific pure-module rule comes after the media rule)
  layer(['src/auth/**/*.ts'], ['**/media/*', '**/tasks/*', '**/notify/*', '**/projects/*', '**/http/*', '**/observability/*', '**/app.js', '**/cli/*'], 'auth sits below media, tasks, notify and http (docs/architecture.md).'),
  layer(['src/tasks/**/*.ts', 'src/notify/**/*.ts', 'src/projects/**/*.ts'], ['**/http/*', '**/observability/*', '**/app.js', '**/cli/*'], 'tasks, notify and projects sit below http (docs/architecture.md).'),
  layer(['src/notify/**/*.ts'], ['**/tasks/*', '**/http/*', '**/observability/*', '**/app.js', '**/cli/*'], 'notify sits below tasks: the task message lives in tasks/ (docs/architecture.md).'),
  layer(['src/http/**/*.ts', 'src/observability/**/*.ts', 'src/util/**/*.ts', 'src/errors.ts', 'src/limits.ts', 'src/config.ts'], ['**/app.js', '**/cli/*'], 'only cli/ may import app.ts or cli/ (docs/architecture.md).'),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The console page (web/console): browser code with its own tsconfig (DOM, Preact JSX).
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    languageOptions: { parserOptions: { project: './web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
  },
  ...dependencyRules,
);
