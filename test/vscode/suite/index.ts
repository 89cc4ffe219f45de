// Entry of the in-host suite (the @vscode/test-electron convention): VS Code's extension host
// loads this bundle from `extensionTestsPath` and awaits run(). It runs every *.test.js that sits
// next to it with mocha, prints mocha's spec report (forwarded to the driver's log) and writes the
// counts to results.json beside itself, which the driver reads. It rejects when a test failed.
import Mocha from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Failure {
  title: string;
  error: string;
}

export async function run(): Promise<void> {
  const dir = __dirname;
  const grep = process.env.LL_VSCODE_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort();
  for (const file of files) mocha.addFile(join(dir, file));
  await mocha.loadFilesAsync();
  const failures: Failure[] = [];
  let passed = 0;
  let pending = 0;
  const started = Date.now();
  const failed = await new Promise<number>((resolve) => {
    const runner = mocha.run((count) => resolve(count));
    runner.on('pass', () => passed++);
    runner.on('pending', () => pending++);
    runner.on('fail', (test, err: unknown) => {
      const e = err as { stack?: string; message?: string } | undefined;
      failures.push({ title: test.fullTitle(), error: String(e?.stack ?? e?.message ?? err) });
    });
  });
  const results = { passed, failed: failures.length || failed, pending, failures, seconds: (Date.now() - started) / 1000, files };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  if (results.failed > 0) throw new Error(`${results.failed} in-host test(s) failed`);
}
