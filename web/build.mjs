// Builds the page into dist/: index.html, assets/app.js and assets/app.css (minified, no source
// maps, the same bytes for the same sources: `aion serve` embeds these files).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/assets', { recursive: true });
await build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: 'dist/assets',
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'info',
});
copyFileSync('index.html', 'dist/index.html');
