/**
 * The dependency rules of docs/architecture.md are lint errors: each forbidden import is reported by
 * `npm run lint` (ESLint with this repository's eslint.config.js), and the allowed ones are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

// The snippets are not files of the TypeScript project, so type information is switched off for them (and
// the one type-aware rule with it); the dependency rules need none.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { project: null, projectService: false } }, rules: { '@typescript-eslint/no-floating-promises': 'off' } },
});

async function restricted(file: string, specifier: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import * as m from '${specifier}';\nexport const x = m;\n`, { filePath: file });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

const cases: Array<[file: string, specifier: string, forbidden: boolean]> = [
  // media/plan and media/request are pure.
  ['src/media/plan/x.ts', 'node:fs', true],
  ['src/media/plan/x.ts', 'node:child_process', true],
  ['src/media/plan/x.ts', '../engine/probe.js', true],
  ['src/media/plan/x.ts', '../../storage/objects.js', true],
  ['src/media/plan/x.ts', '../../db/connection.js', true],
  ['src/media/plan/x.ts', 'pino', true],
  ['src/media/request/x.ts', 'node:http', true],
  ['src/media/request/x.ts', '../../tasks/queue.js', true],
  ['src/media/request/x.ts', '../../storage/names.js', false],
  ['src/media/plan/x.ts', './containers.js', false],
  ['src/media/plan/x.ts', '../job.js', false],
  ['src/media/request/x.ts', '../../errors.js', false],
  // So are the pure modules beside them (media-meta: DetectMediaMeta from ffprobe's JSON; output naming).
  ['src/media/media-meta.ts', './engine/probe.js', true],
  ['src/media/output-name.ts', 'node:fs', true],
  ['src/media/media-meta.ts', './ffprobe-json.js', false],
  ['src/media/detect-meta.ts', './engine/sandbox.js', false],
  // the background loop lives in db/: below notify and tasks, which use it.
  ['src/db/x.ts', '../notify/outbox.js', true],
  ['src/notify/x.ts', '../db/background-loop.js', false],
  // storage never imports http or tasks.
  ['src/storage/x.ts', '../http/server.js', true],
  ['src/storage/x.ts', '../tasks/queue.js', true],
  ['src/storage/x.ts', '../db/connection.js', false],
  // lower layers never import higher ones.
  ['src/db/x.ts', '../storage/index.js', true],
  ['src/notify/x.ts', '../tasks/records.js', true],
  ['src/tasks/x.ts', '../http/oss/dialect.js', true],
  ['src/auth/x.ts', '../http/server.js', true],
  ['src/http/x.ts', '../app.js', true],
  ['src/http/x.ts', '../cli/main.js', true],
  ['src/tasks/x.ts', '../notify/outbox.js', false],
  ['src/http/x.ts', '../tasks/service.js', false],
  ['src/cli/x.ts', '../app.js', false],
];

for (const [file, specifier, forbidden] of cases) {
  test(`${file} importing ${specifier}: ${forbidden ? 'a lint error' : 'allowed'}`, async () => {
    assert.equal(await restricted(file, specifier), forbidden);
  });
}
