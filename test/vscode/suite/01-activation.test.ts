// The extension loads and activates in the real extension host, and registers its commands.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS, EXTENSION_ID, activated, extension, waitFor } from './helpers';

describe('activation', () => {
  it('runs in code-server\'s Node extension host', () => {
    assert.ok(vscode.env.remoteName, 'vscode.env.remoteName is set in a server extension host');
    assert.match(process.version, /^v\d+/);
  });

  it(`finds ${EXTENSION_ID} from extensionDevelopmentPath`, () => {
    const ext = extension();
    assert.equal(ext.packageJSON.name, 'lipschitz-lens');
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
  });

  it('activates without throwing and returns its API', async () => {
    const ext = await activated();
    assert.equal(ext.isActive, true);
    // VS Code marks an extension whose activate() threw as active too; the API it returns is the
    // sign that activate() ran to its end.
    assert.ok(ext.exports && typeof ext.exports === 'object', `activate() returned ${String(ext.exports)}; it failed or returned no API`);
  });

  for (const command of COMMANDS) {
    it(`registers ${command}`, async () => {
      await activated();
      const all = await vscode.commands.getCommands(true);
      assert.ok(all.includes(command), `${command} is not registered`);
    });
  }

  it('shows its log on lipschitzLens.showLog', async () => {
    await activated();
    // The Output view shows one channel as an editor on an output: document; its URI names the channel.
    const logShown = () => vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'output' && /Lipschitz(%20| )Lens/.test(e.document.uri.toString()));
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await waitFor(() => !logShown(), 10_000, 'the panel to close before the command');
    await vscode.commands.executeCommand('lipschitzLens.showLog');
    await waitFor(logShown, 10_000, 'the "Lipschitz Lens" output channel to be visible');
  });
});
