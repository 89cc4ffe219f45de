// package.json's contributions agree with the code: defaults, command ids, the custom editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSettings } from '../../../src/extension/settings';
import { ONNX_EDITOR_VIEW_TYPE } from '../../../src/extension/onnx-editor-id';

interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    customEditors: { viewType: string; selector: { filenamePattern: string }[]; priority: string }[];
    configuration: { properties: Record<string, { default: unknown }> };
  };
}

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;
const source = (file: string) => readFileSync(join(import.meta.dirname, '..', '..', '..', 'src', 'extension', file), 'utf8');

test('setting defaults in package.json are the defaults the code uses', () => {
  const properties = manifest.contributes.configuration.properties;
  const fromManifest = readSettings((key) => properties[`lipschitzLens.${key}`]?.default);
  assert.deepEqual(fromManifest, readSettings(() => undefined));
  for (const key of Object.keys(properties)) {
    assert.ok(source('settings.ts').includes(`get('${key.replace('lipschitzLens.', '')}')`), `${key} is read by settings.ts`);
  }
});

test('every contributed command is registered and every menu item names a contributed command', () => {
  const ids = manifest.contributes.commands.map((c) => c.command);
  const commands = source('commands.ts');
  for (const id of ids) assert.ok(commands.includes(`registerCommand('${id}'`), `${id} is registered`);
  for (const c of manifest.contributes.commands) assert.equal(c.category, 'Lipschitz Lens');
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(ids.includes(item.command), `${menu}: ${item.command} is contributed`);
  }
});

test('the .onnx custom editor is contributed under the view type the code registers', () => {
  const editor = manifest.contributes.customEditors.find((e) => e.viewType === ONNX_EDITOR_VIEW_TYPE);
  assert.ok(editor);
  assert.equal(editor.priority, 'default');
  assert.deepEqual(editor.selector, [{ filenamePattern: '*.onnx' }]);
  assert.ok(manifest.activationEvents.includes(`onCustomEditor:${ONNX_EDITOR_VIEW_TYPE}`));
});

test('the "Lipschitz Layers" explorer view is contributed under the id the code creates, with text for when it is empty', () => {
  const contributes = manifest.contributes as Manifest['contributes'] & { views?: Record<string, { id: string; name: string }[]>; viewsWelcome?: { view: string; contents: string }[] };
  const view = contributes.views?.explorer?.find((v) => v.name === 'Lipschitz Layers');
  assert.ok(view, 'no "Lipschitz Layers" view in the explorer');
  assert.ok(source('layers-view.ts').includes(`LAYERS_VIEW_ID = '${view.id}'`));
  assert.ok(contributes.viewsWelcome?.some((w) => w.view === view.id && w.contents.length > 0));
});
