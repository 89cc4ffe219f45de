// What the driver tells the in-host suite (config.json next to the bundle): where the project,
// the workspace models and the CLI are. Shared by run.ts (writes it) and the tests (read it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceModels } from '../fixtures';

export interface SuiteConfig {
  repoRoot: string;
  suiteDir: string;
  workspace: WorkspaceModels;
  cli: string;
}

let cached: SuiteConfig | undefined;

/** Reads config.json from the bundle's folder (each test bundle sits next to it). */
export function suiteConfig(): SuiteConfig {
  cached ??= JSON.parse(readFileSync(join(__dirname, 'config.json'), 'utf8')) as SuiteConfig;
  return cached;
}
