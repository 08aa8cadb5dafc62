// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/*
 * Boundaries. src/ is split by the context its code runs in: the page's own world (main-world),
 * the content script (content), the background worker (background), the extension pages (popup,
 * options, ui, control) and what the background and the pages share (extension). shared/ and
 * page-dom/ are plain modules that any context loads, the page's world included.
 */
const EXTENSION_SIDE = ['background', 'extension', 'ui', 'popup', 'options', 'control'];

/** A boundary: the folders `files` may not import from (static, re-exported, dynamic or type imports). */
function boundary(files, { who, forbidden, noPackages = false, noExtensionApi = false }) {
  const folders = `(^|/)(${forbidden.join('|')})(/|$)`;
  const inSelector = folders.replaceAll('/', '\\/');
  const message = `${who}: nothing from ${forbidden.map((name) => `${name}/`).join(', ')}.`;
  const noApi = `${who}: no extension API.`;
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'webextension-polyfill', message: `${who}: no polyfill (it is for the background and the extension pages).` }],
          patterns: [{ regex: folders, message }, ...(noPackages ? [{ regex: '^[^.]', message: `${who}: no package.` }] : [])],
        },
      ],
      'no-restricted-syntax': ['error', { selector: `ImportExpression[source.value=/${inSelector}/]`, message }, { selector: `TSImportType[argument.literal.value=/${inSelector}/]`, message }],
      ...(noExtensionApi && {
        'no-restricted-globals': ['error', { name: 'chrome', message: noApi }, { name: 'browser', message: noApi }],
        'no-restricted-properties': ['error', ...['globalThis', 'window', 'self'].flatMap((object) => ['chrome', 'browser'].map((property) => ({ object, property, message: noApi })))],
      }),
    },
  };
}

export default defineConfig(
  {
    ignores: ['dist/', '.dist-*/', 'node_modules/', 'test-results/', '.bench/', '.scratch/', 'artifacts/', 'test/fixtures/', 'demo/site/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // noUncheckedIndexedAccess is on: `list[i]!` right after a bounds check is the idiom.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers in messages and URLs are what templates are for; objects and unions still are not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Style only: handlers return early with `return reply(...)`, and the settings readers
      // with `return problem(...)` (undefined: no value). Misusing a void value is a type error anyway.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Tasks, captchas and timers are kept in plain records keyed by id (they go to extension storage as JSON).
      '@typescript-eslint/no-dynamic-delete': 'off',
      // `_name` marks a parameter or a destructured field left out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Passing on a caught `unknown` as it came is fine; inventing a non-Error reason is not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  boundary(['src/shared/**', 'src/page-dom/**'], {
    who: 'shared/ and page-dom/ (loaded in every context, the page world too)',
    forbidden: [...EXTENSION_SIDE, 'content', 'main-world'],
    noExtensionApi: true,
  }),
  boundary(['src/content/**'], {
    who: 'The content script (it talks to the background by messages: src/content/runtime.ts)',
    forbidden: EXTENSION_SIDE,
  }),
  boundary(['src/main-world/**'], {
    who: "The page world (it runs among the page's scripts; main-world/, shared/ and page-dom/ only)",
    forbidden: [...EXTENSION_SIDE, 'content'],
    noPackages: true,
    noExtensionApi: true,
  }),
  {
    files: ['test/**/*.ts'],
    rules: {
      // Fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // Teardown guards fixtures a failed beforeAll never set (typed as always set), and fuzz
      // and hostile-input tests check for values the types say cannot happen.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // vitest's asymmetric matchers (expect.any, expect.objectContaining) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Mock services echo whatever a request carried, whatever its type.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
