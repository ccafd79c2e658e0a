// @ts-check
/**
 * ESLint (flat config): typescript-eslint's recommended rules plus the type-aware rules that catch
 * real bugs in a Koa service (floating and misused promises, awaiting non-promises). Folder
 * boundaries and import cycles are dependency-cruiser's job (.dependency-cruiser.cjs), format is
 * Prettier's (.prettierrc.json): this file holds neither.
 */
import js from '@eslint/js';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.bench-build/', 'data/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  comments.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a deliberately unused parameter, binding or caught error.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // The optional drivers (PostgreSQL, Redis) load lazily, only when configured: `require('./postgres') as typeof import('./postgres')`.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^pg$', '^\\./(postgres|redis)$', '/postgres-(ledger|orders|members)$'] }],
      // Matching control characters is deliberate wherever a regex does it here: the XML codec (XML 1.0
      // forbids them) and the checks that refuse them in operator and hostile input.
      'no-control-regex': 'off',
      // Errors are rewritten on purpose to say what, where and how to fix, and never carry a secret
      // (a driver's error can hold a URL with a password): the cause is attached only where it is safe.
      'preserve-caught-error': 'off',
    },
  },
  {
    rules: {
      // A disable comment says why: `// eslint-disable-next-line rule -- reason`.
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
    },
  },
  {
    files: ['app.ts', 'src/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.build.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The console's page scripts run in the browser (served as they are, no build step).
    files: ['views/console/static/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'fetch',
          'location',
          'history',
          'URL',
          'URLSearchParams',
          'FormData',
          'Chart',
          'Intl',
          'setTimeout',
          'clearTimeout',
          'Blob',
          'navigator',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
