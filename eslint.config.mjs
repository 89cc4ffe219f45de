// Lint rules, and the import boundaries of docs/architecture.md#import-boundaries: the core (protocol, model, formats, analysis,
// engine) never imports vscode or the UI; the extension never imports the engine (it talks to the
// worker); the webview imports only the protocol's types.
import tseslint from 'typescript-eslint';

const core = ['src/protocol/**', 'src/model/**', 'src/formats/**', 'src/analysis/**', 'src/engine/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'test-results/**', 'out/**', '.scratch/**', '.bench/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: core,
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The core never imports vscode.' }],
        patterns: [
          { group: ['**/extension/**', '**/webview-ui/**', '**/cli/**', '**/worker/**'], message: 'The core does not import its faces.' },
        ],
      }],
    },
  },
  {
    files: ['src/engine/**', 'src/formats/**', 'src/analysis/**', 'src/model/**', 'src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'The core never imports vscode.' },
          { name: 'fs', message: 'The core reads files through FileAccess.' },
          { name: 'node:fs', message: 'The core reads files through FileAccess.' },
          { name: 'fs/promises', message: 'The core reads files through FileAccess.' },
          { name: 'node:fs/promises', message: 'The core reads files through FileAccess.' },
        ],
        patterns: [
          { group: ['**/extension/**', '**/webview-ui/**', '**/cli/**', '**/worker/**'], message: 'The core does not import its faces.' },
        ],
      }],
    },
  },
  {
    files: ['src/extension/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/engine/**', '**/formats/**', '**/analysis/**', '@tensorflow/*'], message: 'The extension talks to the worker; it never loads the engine.' },
        ],
      }],
    },
  },
  {
    files: ['webview-ui/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The webview runs in a browser.' }],
        patterns: [
          { group: ['**/src/*', '!**/src/protocol'], message: 'The webview imports only the protocol types.' },
          { group: ['**/src/engine/**', '**/src/formats/**', '**/src/extension/**', '**/src/worker/**', '**/src/analysis/**', '**/src/model/**', '@tensorflow/*'], message: 'The webview imports only the protocol types.' },
        ],
      }],
    },
  },
);
