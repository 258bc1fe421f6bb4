// Builds the web console (web/console, Preact) into dist/console: content-hashed JS and CSS bundles
// (served immutable) and index.html naming them (served no-cache). No CDN: everything is in the bundle.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'console');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: [join(root, 'web/console/main.tsx'), join(root, 'web/console/style.css')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
const js = outputs.find((f) => /^main-.*\.js$/.test(f));
const css = outputs.find((f) => /^style-.*\.css$/.test(f));
if (!js || !css) throw new Error(`the console build wrote ${outputs.join(', ')}: no main-*.js or style-*.css`);
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Medley console</title>
<link rel="stylesheet" href="/-/console/assets/${css}">
<script type="module" src="/-/console/assets/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
await writeFile(join(out, 'index.html'), html);
console.log(`console: dist/console/${js}, ${css}, index.html`);
