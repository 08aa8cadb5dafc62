// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

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
