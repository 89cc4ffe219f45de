// package.json contributions as the workbench sees them: every command has a title, the menus'
// `when` clauses match .onnx files and TF.js model.json and nothing else, the .onnx custom editor.
import assert from 'node:assert/strict';
import { extension, COMMANDS, ONNX_VIEW_TYPE } from './helpers';
import { evaluateWhen, resourceContext, type Context } from './when';

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}

function contributes(): Record<string, unknown> {
  return (extension().packageJSON.contributes ?? {}) as Record<string, unknown>;
}

function menu(id: string): MenuItem[] {
  const menus = (contributes().menus ?? {}) as Record<string, MenuItem[]>;
  return menus[id] ?? [];
}

function estimateIn(id: string): MenuItem {
  const item = menu(id).find((m) => m.command === 'lipschitzLens.estimate');
  assert.ok(item, `no lipschitzLens.estimate in menus["${id}"]`);
  return item;
}

const MODELS = ['model.json', 'resnet18.onnx', 'v1.2.small.onnx'];

/**
 * A model.json the extension recognised as a TF.js model: VS Code knows that only through a
 * context key the extension sets, so offer the common spellings of one (a list of resource
 * paths or URIs). Clauses keyed on the file name alone (resourceFilename == model.json) pass too.
 */
function contextFor(name: string, extra: Context = {}): Context {
  const base = resourceContext(name, extra);
  if (name !== 'model.json') return base;
  const keys = [String(base.resourcePath), String(base.resource)];
  return { ...base, 'lipschitzLens.tfjsModels': keys, 'lipschitzLens.tfjsModelPaths': keys, 'lipschitzLens.modelJsonFiles': keys };
}
const NOT_MODELS = ['package.json', 'tsconfig.json', 'notes.txt', 'model.json.bak', 'weights.bin', 'onnx.md'];

describe('package.json contributions', () => {
  it('declares every command with a title', () => {
    const commands = (contributes().commands ?? []) as { command: string; title: string }[];
    for (const id of COMMANDS) {
      const c = commands.find((x) => x.command === id);
      assert.ok(c, `contributes.commands lacks ${id}`);
      assert.ok(c.title && c.title.length > 0, `${id} has no title`);
    }
    const estimate = commands.find((x) => x.command === 'lipschitzLens.estimate');
    assert.match(estimate?.title ?? '', /Estimate Lipschitz/);
  });

  for (const id of ['explorer/context', 'editor/title']) {
    it(`menus["${id}"] shows "Estimate Lipschitz" on models only`, () => {
      const item = estimateIn(id);
      for (const name of MODELS) {
        assert.equal(evaluateWhen(item.when, contextFor(name)), true, `${id} should match ${name}; when: ${item.when}`);
      }
      for (const name of NOT_MODELS) {
        assert.equal(evaluateWhen(item.when, contextFor(name)), false, `${id} should not match ${name}; when: ${item.when}`);
      }
    });
  }

  for (const [id, command] of [['explorer/context', 'lipschitzLens.compareRuns'], ['editor/title/context', 'lipschitzLens.compareRuns']]) {
    it(`menus["${id}"] shows ${command} on models only`, () => {
      const item = menu(id).find((m) => m.command === command);
      assert.ok(item, `no ${command} in menus["${id}"]`);
      for (const name of MODELS) assert.equal(evaluateWhen(item.when, contextFor(name)), true, `${id} should match ${name}; when: ${item.when}`);
      for (const name of NOT_MODELS) assert.equal(evaluateWhen(item.when, contextFor(name)), false, `${id} should not match ${name}; when: ${item.when}`);
    });
  }

  it('Format model.json is offered in the palette and the editor context menu of TF.js model.json only; Reveal Layer only from the layers view', () => {
    for (const id of ['commandPalette', 'editor/context']) {
      const item = menu(id).find((m) => m.command === 'lipschitzLens.formatModelJson');
      assert.ok(item, `no formatModelJson in menus["${id}"]`);
      assert.equal(evaluateWhen(item.when, contextFor('model.json')), true, `${id}: ${item.when}`);
      for (const name of ['package.json', 'resnet18.onnx', 'notes.txt']) assert.equal(evaluateWhen(item.when, contextFor(name)), false, `${id} should not match ${name}`);
    }
    assert.equal(menu('commandPalette').find((m) => m.command === 'lipschitzLens.revealLayer')?.when, 'false');
  });

  it('explorer menu does not match folders', () => {
    const item = estimateIn('explorer/context');
    assert.equal(evaluateWhen(item.when, contextFor('model.json', { explorerResourceIsFolder: true })), false, `when: ${item.when}`);
  });

  it('the command palette keeps every command reachable or hides only argument-bound ones on purpose', () => {
    for (const m of menu('commandPalette')) {
      if (m.when === 'false') assert.ok(!['lipschitzLens.estimate', 'lipschitzLens.cancel'].includes(m.command), `${m.command} hidden from the palette`);
    }
  });

  it(`contributes the ${ONNX_VIEW_TYPE} custom editor for *.onnx`, () => {
    const editors = (contributes().customEditors ?? []) as { viewType: string; selector: { filenamePattern: string }[]; priority?: string }[];
    const editor = editors.find((e) => e.viewType === ONNX_VIEW_TYPE);
    assert.ok(editor, `no customEditors entry ${ONNX_VIEW_TYPE}`);
    assert.ok(editor.selector.some((s) => /\*\.onnx$/i.test(s.filenamePattern)), JSON.stringify(editor.selector));
  });

  it('has settings for tolerance, iteration cap, method and input shape', () => {
    const configuration = contributes().configuration as { properties?: Record<string, unknown> } | { properties?: Record<string, unknown> }[] | undefined;
    const sections = Array.isArray(configuration) ? configuration : configuration ? [configuration] : [];
    const keys = sections.flatMap((s) => Object.keys(s.properties ?? {})).join(' ');
    for (const word of [/tol/i, /iter/i, /method|solver/i, /inputShape/i]) assert.match(keys, word, `settings: ${keys}`);
  });
});
