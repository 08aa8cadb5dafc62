/**
 * `npm run package`: fresh production builds of both browsers, zipped for the stores:
 *   artifacts/caprelay-chrome-<version>.zip   (Chrome Web Store, Edge Add-ons)
 *   artifacts/caprelay-firefox-<version>.zip  (addons.mozilla.org; web-ext lint must be clean)
 *   artifacts/caprelay-source-<version>.zip   (the committed sources, which AMO asks for with bundled code)
 * The version is manifest.json's. No source maps unless `-- --sourcemap`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { build } from 'vite';

const run = promisify(execFile);
const WEB_EXT = path.resolve('node_modules', '.bin', 'web-ext');
const TARGETS = ['chrome', 'firefox'] as const;
type Target = (typeof TARGETS)[number];

const USAGE = `Usage: npm run package [-- options]

  --sourcemap     build with source maps and put them in the zips
  --no-source     skip the source archive
  --out <dir>     where the zips go (default: artifacts)
`;

interface Options {
  sourcemap: boolean;
  source: boolean;
  outDir: string;
}

function readVersion(): string {
  const manifest: unknown = JSON.parse(fs.readFileSync('manifest.json', 'utf8'));
  const version = typeof manifest === 'object' && manifest !== null ? (manifest as { version?: unknown }).version : undefined;
  // Store versions are 1–4 dot-separated integers.
  if (typeof version !== 'string' || !/^\d+(\.\d+){0,3}$/.test(version)) throw new Error(`manifest.json has no valid version: ${String(version)}`);
  return version;
}

async function buildTarget(target: Target, sourcemap: boolean): Promise<string> {
  // vite.config.ts decides everything else (outDir honours CAPRELAY_DIST); only source maps change here.
  await build({ mode: target, logLevel: 'warn', build: { sourcemap } });
  const dir = path.resolve(process.env.CAPRELAY_DIST ?? 'dist', target);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new Error(`the ${target} build left no ${dir}/manifest.json`);
  return dir;
}

/** Lists a folder's files, relative, sorted: what the zip must hold. */
function filesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

async function zip(dir: string, outDir: string, filename: string, sourcemap: boolean): Promise<string> {
  const ignore = sourcemap ? [] : ['--ignore-files', '**/*.map'];
  await run(WEB_EXT, ['build', '--source-dir', dir, '--artifacts-dir', outDir, '--filename', filename, '--overwrite-dest', '--no-input', '--no-config-discovery', ...ignore]);
  return path.join(outDir, filename);
}

/** web-ext lint as addons.mozilla.org will run it (not --self-hosted). Errors fail the package. */
async function lintFirefox(dir: string): Promise<{ errors: number; warnings: number; notices: number; text: string }> {
  const { stdout } = await run(WEB_EXT, ['lint', '--source-dir', dir, '--output', 'json', '--no-config-discovery'], { maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => ({
    stdout: (error as { stdout?: string }).stdout ?? '',
  }));
  const report = JSON.parse(stdout) as { count: number; summary: { errors: number; warnings: number; notices: number }; errors: Message[]; warnings: Message[]; notices: Message[] };
  const text = [...report.errors, ...report.warnings, ...report.notices].map((m) => `  ${m.code}: ${m.message}${m.file ? ` (${m.file})` : ''}`).join('\n');
  return { ...report.summary, text };
}

interface Message {
  code: string;
  message: string;
  file?: string;
}

async function sourceArchive(outDir: string, version: string): Promise<string | null> {
  const file = path.join(outDir, `caprelay-source-${version}.zip`);
  try {
    await run('git', ['archive', '--format=zip', `--prefix=caprelay-${version}/`, '-o', file, 'HEAD']);
    return file;
  } catch {
    return null;
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { sourcemap: { type: 'boolean' }, 'no-source': { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    options = { sourcemap: values.sourcemap ?? false, source: !values['no-source'], outDir: path.resolve(values.out ?? 'artifacts') };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const version = readVersion();
  // The Chrome Web Store refuses a manifest `key` (it gives the id itself): store builds leave it out.
  process.env.CAPRELAY_STORE_BUILD = '1';
  fs.mkdirSync(options.outDir, { recursive: true });
  const made: string[] = [];
  for (const target of TARGETS) {
    const dir = await buildTarget(target, options.sourcemap);
    if (target === 'firefox') {
      const lint = await lintFirefox(dir);
      console.log(`web-ext lint (Firefox): ${lint.errors} errors, ${lint.warnings} warnings, ${lint.notices} notices`);
      if (lint.text) console.log(lint.text);
      if (lint.errors > 0) {
        console.error('The Firefox build does not pass web-ext lint; no package made.');
        return 1;
      }
    }
    const file = await zip(dir, options.outDir, `caprelay-${target}-${version}.zip`, options.sourcemap);
    const files = filesIn(dir).filter((f) => options.sourcemap || !f.endsWith('.map'));
    console.log(`${path.relative(process.cwd(), file)}  ${(fs.statSync(file).size / 1024).toFixed(1)} kB, ${files.length} files${options.sourcemap ? ' (with source maps)' : ''}`);
    made.push(file);
  }
  if (options.source) {
    const file = await sourceArchive(options.outDir, version);
    if (file) console.log(`${path.relative(process.cwd(), file)}  the committed sources (HEAD), for store review of the bundled code`);
    // The zips come from the working tree, the source archive from HEAD: they match only when clean.
    const { stdout: dirty } = await run('git', ['status', '--porcelain', '--untracked-files=no']).catch(() => ({ stdout: '' }));
    if (file && dirty.trim()) console.log('Note: there are uncommitted changes; commit them and package again so the source archive matches the zips.');
    else console.log('No source archive: this is not a git checkout.');
  }
  return 0;
}
