/**
 * Sizes of the built extension's parts, as the browser loads them: each entry file plus every
 * module it imports (shared chunks are counted in each part that loads them). A chunk the popup
 * imports dynamically (a tab's code, loaded when the tab opens) is a part of its own, counted
 * without what the popup has already loaded. Gzip is per file at level 9, which is what a store
 * download or a disk cache compresses about as well as.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { LAZY_SCRIPTS } from '../../src/shared/lazy-scripts';

export interface PartSize {
  name: string;
  files: string[];
  raw: number;
  gzip: number;
}

interface BuiltManifest {
  background?: { service_worker?: string };
  action?: { default_popup?: string };
  content_scripts?: { js?: string[]; css?: string[]; world?: string }[];
}

/** Relative module specifiers of static imports / re-exports in built JS (`from"./a.js"`, `import"./a.js"`). */
const STATIC_IMPORT_RE = /\bfrom\s*["'`]([^"'`]+)["'`]|\bimport\s*["'`]([^"'`]+)["'`]/g;
/** Of dynamic imports (the minifier writes them with a template literal). */
const DYNAMIC_IMPORT_RE = /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g;

const isJs = (file: string): boolean => /\.m?js$/.test(file);

function resolveFrom(dist: string, fromFile: string, spec: string): string | null {
  if (spec.startsWith('/')) return path.join(dist, spec);
  if (spec.startsWith('.')) return path.join(path.dirname(fromFile), spec);
  return null; // bare specifiers do not occur in a bundled extension
}

function importsOf(dist: string, file: string, pattern: RegExp): string[] {
  const code = fs.readFileSync(file, 'utf8');
  return [...code.matchAll(pattern)].flatMap((match) => {
    const target = resolveFrom(dist, file, match[1] ?? match[2] ?? '');
    return target && isJs(target) ? [target] : [];
  });
}

/** A file and what it imports statically: what loads with it. */
function jsClosure(dist: string, entry: string, seen: Set<string>): void {
  if (seen.has(entry) || !fs.existsSync(entry)) return;
  seen.add(entry);
  for (const target of importsOf(dist, entry, STATIC_IMPORT_RE)) jsClosure(dist, target, seen);
}

function measure(dist: string, name: string, files: Iterable<string>): PartSize {
  const list = [...new Set(files)];
  let raw = 0;
  let gzip = 0;
  for (const file of list) {
    const bytes = fs.readFileSync(file);
    raw += bytes.length;
    gzip += zlib.gzipSync(bytes, { level: 9 }).length;
  }
  return { name, files: list.map((f) => path.relative(dist, f)), raw, gzip };
}

/** The popup's HTML, the scripts and styles it references, and their imports. */
function popupFiles(dist: string, htmlPath: string): string[] {
  const html = fs.readFileSync(htmlPath, 'utf8');
  const files = [htmlPath];
  const js = new Set<string>();
  for (const match of html.matchAll(/<(script|link)\b[^>]*>/g)) {
    const tag = match[0];
    const ref = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
    if (!ref || /^[a-z]+:/i.test(ref)) continue;
    const file = resolveFrom(dist, htmlPath, ref.startsWith('/') || ref.startsWith('.') ? ref : `./${ref}`);
    if (!file) continue;
    if (file.endsWith('.css') && /rel="stylesheet"/.test(tag)) files.push(file);
    else if (isJs(file)) jsClosure(dist, file, js);
  }
  return [...files, ...js];
}

/** The chunk's name as the build gives it (`SettingsTab-AbCd1234.js` → SettingsTab). */
function chunkName(file: string): string {
  return path.basename(file).replace(/-[\w-]{8}\.m?js$/, '');
}

/**
 * Each chunk that `loaded` imports dynamically (and, in turn, those chunks' own), as the part
 * `on demand: <name>`: the chunk and its static imports, less the files already loaded.
 */
function onDemand(dist: string, loaded: readonly string[]): PartSize[] {
  const parts: PartSize[] = [];
  const queue = loaded.filter(isJs).flatMap((file) => importsOf(dist, file, DYNAMIC_IMPORT_RE));
  const done = new Set<string>();
  for (const chunk of queue) {
    if (done.has(chunk)) continue;
    done.add(chunk);
    const seen = new Set<string>();
    jsClosure(dist, chunk, seen);
    const extra = [...seen].filter((file) => !loaded.includes(file));
    parts.push(measure(dist, `on demand: ${chunkName(chunk)}`, extra));
    for (const file of extra) queue.push(...importsOf(dist, file, DYNAMIC_IMPORT_RE));
  }
  return parts;
}

export function measureSizes(dist: string): PartSize[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, 'manifest.json'), 'utf8')) as BuiltManifest;
  const parts: PartSize[] = [];
  const contentJs = (main: boolean): string[] =>
    (manifest.content_scripts ?? [])
      .filter((cs) => (cs.world === 'MAIN') === main)
      .flatMap((cs) => [...(cs.js ?? []), ...(cs.css ?? [])])
      .flatMap((file) => {
        const seen = new Set<string>();
        const full = path.join(dist, file);
        if (file.endsWith('.css')) return [full];
        jsClosure(dist, full, seen);
        return [...seen];
      });
  parts.push(measure(dist, 'content script', contentJs(false)));
  parts.push(measure(dist, 'page-world probe', contentJs(true)));
  const worker = manifest.background?.service_worker;
  if (worker) {
    const seen = new Set<string>();
    jsClosure(dist, path.join(dist, worker), seen);
    parts.push(measure(dist, 'background', seen));
  }
  const popup = manifest.action?.default_popup;
  if (popup) {
    const atOpen = popupFiles(dist, path.join(dist, popup));
    parts.push(measure(dist, 'popup', atOpen));
    parts.push(...onDemand(dist, atOpen));
  }
  // The parts the background injects into one frame when it needs them (self-contained files).
  const lazy = (name: string, file: string): void => void parts.push(measure(dist, name, [path.join(dist, file)]));
  lazy('detectors (lazy)', LAZY_SCRIPTS.agent.file);
  lazy('page-world hooks (lazy)', LAZY_SCRIPTS.hooks.file);
  lazy('image flows (lazy)', LAZY_SCRIPTS.images.file);
  return parts;
}
