/**
 * `npm run dev`: Vite's build in watch mode (not the crxjs dev server, whose build loads the
 * background and popup from a localhost server and so is not the extension that ships).
 * Every save rebuilds dist/<browser> in well under a second; reload the extension to run it.
 *
 * The content scripts are built apart from the main bundle (one self-contained file each), so
 * the watcher does not see them through imports: they are added to its list here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'vite';

/** Sources of the standalone content scripts and what they import. */
const CONTENT_SCRIPT_DIRS = ['src/content', 'src/main-world', 'src/shared'];

function sourcesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => path.resolve(dir, f));
}

function watchContentScripts(): Plugin {
  return {
    name: 'caprelay:watch-content-scripts',
    // Runs on every rebuild, so files created meanwhile join the list.
    buildStart() {
      for (const dir of CONTENT_SCRIPT_DIRS) for (const file of sourcesIn(dir)) this.addWatchFile(file);
    },
  };
}

const HOW_TO_RELOAD = {
  chrome: 'chrome://extensions → Developer mode → Load unpacked; after a rebuild click ⟳ on CapRelay and reload the page',
  firefox: 'about:debugging#/runtime/this-firefox → Load Temporary Add-on → manifest.json; after a rebuild click Reload',
};

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { firefox: { type: 'boolean' }, chrome: { type: 'boolean' } } });
  const targets = [...(values.chrome || !values.firefox ? ['chrome' as const] : []), ...(values.firefox ? ['firefox' as const] : [])];
  const watchers: { close(): Promise<void> }[] = [];
  for (const target of targets) {
    const watcher = await build({ mode: target, build: { watch: {} }, plugins: [watchContentScripts()] });
    if (!('on' in watcher)) throw new Error('vite build did not start watching');
    const dir = path.join(process.env.CAPRELAY_DIST ?? 'dist', target);
    await new Promise<void>((resolve) => {
      watcher.on('event', (event) => {
        if (event.code === 'END' || event.code === 'ERROR') resolve();
      });
    });
    console.log(`\nWatching: ${dir} is rebuilt on every change. ${HOW_TO_RELOAD[target]}.\n`);
    watchers.push(watcher);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await Promise.all(watchers.map((w) => w.close()));
  return 0;
}
