/// <reference types="vitest/config" />
import { build, defineConfig, type Plugin, type UserConfig } from 'vite';
import { crx, type ManifestV3Export } from '@crxjs/vite-plugin';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import baseManifest from './manifest.json' with { type: 'json' };
import { LAZY_SCRIPTS } from './src/shared/lazy-scripts.ts';

type Target = 'chrome' | 'firefox';

export const GECKO_ID = 'caprelay@caprelay.dev';

/**
 * The Chrome build's manifest `key` (the public half only; the private one is not part of the
 * project): it fixes the extension id of the unpacked build, so a policy, a Selenium
 * capability or a script can name it. Store builds leave it out (the store gives the id).
 */
export const CHROME_PUBLIC_KEY = readFileSync(new URL('./keys/chrome-public.pem', import.meta.url), 'utf8').replace(/-----[A-Z ]+-----|\s+/g, '');

/** An extension id as Chrome derives it from a manifest key: SHA-256 of the key, first 32 hex digits as a–p. */
export function chromeExtensionId(publicKeyBase64: string): string {
  const hex = createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex').slice(0, 32);
  return Array.from(hex, (digit) => String.fromCharCode(97 + parseInt(digit, 16))).join('');
}

export const CHROME_EXTENSION_ID = chromeExtensionId(CHROME_PUBLIC_KEY);

/** One manifest.json serves both browsers; Firefox MV3 wants background.scripts and a gecko id. */
function manifestFor(target: Target): ManifestV3Export {
  const manifest = structuredClone(baseManifest) as Record<string, unknown> & {
    background: { service_worker: string; type: 'module' };
  };
  if (target === 'firefox') {
    return {
      ...manifest,
      background: { scripts: [manifest.background.service_worker], type: 'module' },
      browser_specific_settings: {
        gecko: {
          id: GECKO_ID,
          strict_min_version: '142.0',
          data_collection_permissions: { required: ['none'] },
        },
      },
    } as unknown as ManifestV3Export;
  }
  return {
    ...manifest,
    ...(!process.env.CAPRELAY_STORE_BUILD && { key: CHROME_PUBLIC_KEY }),
    // What a policy may set (storage.managed); Firefox takes its policies without a schema.
    storage: { managed_schema: 'managed_schema.json' },
  } as unknown as ManifestV3Export;
}

const contentScripts = ['src/content/index.ts', 'src/main-world/probe.ts'];

/**
 * The lazily injected parts (src/shared/lazy-scripts.ts): each one self-contained IIFE file, as
 * scripting.executeScript wants, and not web-accessible (crxjs's own dynamic scripts would be).
 */
function lazyScripts(): Plugin {
  return {
    name: 'caprelay:lazy-scripts',
    apply: 'build',
    async generateBundle() {
      for (const { file, entry } of Object.values(LAZY_SCRIPTS)) {
        const result = await build({
          configFile: false,
          logLevel: 'warn',
          build: { write: false, minify: true, target: 'es2022', lib: { entry, formats: ['iife'], name: 'caprelay', fileName: () => file } },
        });
        const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => ('output' in r ? r.output : []));
        const chunk = outputs.find((o) => o.type === 'chunk' && o.isEntry);
        if (!chunk || chunk.type !== 'chunk') throw new Error(`no bundle for ${entry}`);
        this.emitFile({ type: 'asset', fileName: file, source: chunk.code });
      }
    },
  };
}

export default defineConfig(async ({ mode }) => {
  const target: Target = mode === 'firefox' ? 'firefox' : 'chrome';
  // Only under vitest: a build has no use for the test runner.
  const sequencer = process.env.VITEST ? (await import('./test/support/sequencer.ts')).LongestFirst : undefined;
  const config: UserConfig = {
    // Under vitest, Vite runs in serve mode and crxjs would overwrite dist with a dev build.
    plugins: process.env.VITEST ? [] : [crx({ manifest: manifestFor(target), browser: target, contentScripts: { standaloneFiles: contentScripts } }), lazyScripts()],
    build: {
      // CAPRELAY_DIST lets parallel work build into its own folder; the default is dist/.
      outDir: `${process.env.CAPRELAY_DIST ?? 'dist'}/${target}`,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      // The control page for automated browsers: no manifest entry names it.
      rolldownOptions: { input: { control: 'src/control/index.html' } },
    },
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    test: {
      // The order files start in is the run's, not a project's.
      ...(sequencer && { sequence: { sequencer } }),
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            environment: 'happy-dom',
            include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'],
            // A hang guard, not a budget: property runs take seconds, more on a busy machine.
            testTimeout: 30_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'e2e',
            environment: 'node',
            include: ['test/e2e/**/*.e2e.test.ts'],
            testTimeout: 90_000,
            hookTimeout: 90_000,
            // Three files at a time: each has its own browser and servers, and most of an e2e test
            // waits (poll intervals, page loads), using about one core in two; on a 2-core machine
            // at load 15 the three still passed.
            fileParallelism: true,
            maxWorkers: 3,
            // After the unit project (its own worker count needs its own group).
            sequence: { groupOrder: 1 },
            // expect.poll waits for a condition, never a budget: generous, for a busy machine (a
            // loaded 2-core machine has taken over 10 s for a solve's round trip).
            expect: { poll: { timeout: 30_000 } },
          },
        },
      ],
    },
  };
  return config;
});
