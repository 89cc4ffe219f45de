// README screenshots of the results panel: a report (the CLI's --json) rendered by the real
// webview bundle in Debian's Chromium (playwright-core), in a dark and a light VS Code theme.
// Not a test: it reuses the webview tests' harness (the extension's own HTML shell and CSP).
//
//   node dist/cli.js MODEL --json > report.json
//   node --import tsx scripts/screenshots.ts report.json [--out docs/images] [--name panel] [--width 1180] [--height 1500]
//                                            [--section bound|chart|contributors]   (that section only)
//
// Writes <out>/<name>-dark.png and <out>/<name>-light.png. The theme colours are those of VS
// Code's "Dark Modern" and "Light Modern" themes for the variables the page uses.

import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stateFromReport } from '../src/extension/panel-state';
import type { Report } from '../src/protocol/report';
import { send, startHarness, waitForReady } from '../test/webview/harness';

const DARK_MODERN: Record<string, string> = {
  '--vscode-font-family': 'system-ui, "Segoe UI", "Ubuntu", sans-serif',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-disabledForeground': '#cccccc80',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-hoverBackground': '#026ec1',
  '--vscode-button-secondaryBackground': '#313131',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-button-secondaryHoverBackground': '#3c3c3c',
  '--vscode-input-background': '#313131',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-input-border': '#3c3c3c',
  '--vscode-input-placeholderForeground': '#989898',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-list-inactiveSelectionBackground': '#37373d',
  '--vscode-badge-background': '#616161',
  '--vscode-badge-foreground': '#f8f8f8',
  '--vscode-textBlockQuote-background': '#2b2b2b',
  '--vscode-progressBar-background': '#0078d4',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-lines': '#cccccc80',
};

const LIGHT_MODERN: Record<string, string> = {
  ...DARK_MODERN,
  '--vscode-editor-background': '#ffffff',
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#3b3b3b',
  '--vscode-disabledForeground': '#61616180',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editorWarning-foreground': '#bf8803',
  '--vscode-button-background': '#005fb8',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-hoverBackground': '#0258a8',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-input-background': '#ffffff',
  '--vscode-input-foreground': '#3b3b3b',
  '--vscode-input-border': '#cecece',
  '--vscode-input-placeholderForeground': '#767676',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-list-hoverBackground': '#f2f2f2',
  '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
  '--vscode-badge-background': '#cccccc',
  '--vscode-badge-foreground': '#3b3b3b',
  '--vscode-textBlockQuote-background': '#f8f8f8',
  '--vscode-progressBar-background': '#005fb8',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
  '--vscode-charts-lines': '#3b3b3b80',
};

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const reportPath = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
  if (!reportPath) throw new Error('usage: node --import tsx scripts/screenshots.ts REPORT.json [--out DIR] [--name NAME] [--width PX] [--height PX]');
  const out = resolve(option(args, '--out', 'docs/images'));
  const name = option(args, '--name', 'panel');
  const width = Number(option(args, '--width', '1180'));
  const height = Number(option(args, '--height', '1500'));
  const section = option(args, '--section', '');
  if (section && !['bound', 'chart', 'contributors'].includes(section)) throw new Error(`--section: bound, chart or contributors, not ${section}`);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  // The path as a user would see it in the workspace, not this machine's.
  report.model.path = report.model.path.split('/').slice(-2).join('/');
  const state = stateFromReport(report, { model: null, layers: [], bounds: null, status: 'idle', done: 0, total: 0, canReveal: true }, false);
  mkdirSync(out, { recursive: true });

  const harness = await startHarness();
  try {
    for (const [theme, variables] of [['dark', DARK_MODERN], ['light', LIGHT_MODERN]] as const) {
      const page = await harness.newPage();
      await page.setViewportSize({ width, height });
      // The page picks its starting columns from its width at load: load it again at this size.
      await page.reload();
      await waitForReady(page);
      await page.evaluate((vars) => {
        for (const [key, value] of Object.entries(vars)) document.documentElement.style.setProperty(key, value);
      }, variables);
      await send(page, { type: 'state', state });
      await page.emulateMedia({ reducedMotion: 'reduce' });
      const file = join(out, `${name}-${theme}.png`);
      if (section) await page.locator(`section.${section}`).screenshot({ path: file });
      else await page.screenshot({ path: file });
      console.log(`wrote ${file}`);
      await page.close();
    }
  } finally {
    await harness.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
