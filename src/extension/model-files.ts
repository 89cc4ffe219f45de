// Reaching a model's files from the extension host: what kind of model a URI is, its companion
// weight shards, their sizes and hashes, and the ModelSource the worker reads. Local files go to
// the worker by path; other schemes (remote, virtual) are read through workspace.fs and sent as bytes.

import * as vscode from 'vscode';
import type { ModelSource } from '../protocol/messages';
import { sha256File, sha256Hex, type HashedFile } from './cache-key';
import { isTfjsModelJson, weightShardPaths } from './model-json-locations';
import type { ModelKind } from './sessions';

export interface ModelFile {
  /** Path relative to the model's folder (the main file's base name for the main file). */
  relative: string;
  uri: vscode.Uri;
  size: number;
  mtime: number;
}

export interface ModelFiles {
  uri: vscode.Uri;
  kind: ModelKind;
  files: ModelFile[];
  totalBytes: number;
}

/** A one-line problem with the model's files, to show as it is. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** Largest model.json read as text to tell it from other JSON. Topologies are small; shards hold the weights. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

export function isOnnxUri(uri: vscode.Uri): boolean {
  return /\.onnx$/i.test(uri.path);
}

/** Text of a JSON file: the open document's (unsaved edits included) or the file's. */
export async function readJsonText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size > MAX_JSON_BYTES) return undefined;
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

/** 'onnx' for *.onnx, 'tfjs' for a JSON file holding modelTopology and weightsManifest, else undefined. */
export async function modelKindOf(uri: vscode.Uri): Promise<ModelKind | undefined> {
  if (isOnnxUri(uri)) return 'onnx';
  if (!/\.json$/i.test(uri.path)) return undefined;
  kindReads++;
  const text = await readJsonText(uri);
  return text !== undefined && isTfjsModelJson(text) ? 'tfjs' : undefined;
}

/** JSON texts read and parsed by modelKindOf, from any caller (tests check that switching editors does not re-read). */
let kindReads = 0;
export function modelKindReadsForTesting(): number {
  return kindReads;
}

const kindMemo = new Map<string, { stamp: string; kind: ModelKind | undefined }>();

/**
 * modelKindOf, remembered per file: an open document by its version, a closed file by its size and
 * mtime. The status bar and the layers view ask on every editor switch; a converted model.json can
 * be megabytes of one line, so it is read and parsed again only when it changed.
 */
export async function modelKindCached(uri: vscode.Uri): Promise<ModelKind | undefined> {
  if (isOnnxUri(uri)) return 'onnx';
  if (!/\.json$/i.test(uri.path)) return undefined;
  const key = uri.toString();
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
  let stamp: string;
  if (open) stamp = `doc:${open.version}`;
  else {
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      stamp = `file:${stat.size}:${stat.mtime}`;
    } catch {
      return undefined;
    }
  }
  const known = kindMemo.get(key);
  if (known && known.stamp === stamp) return known.kind;
  const kind = await modelKindOf(uri);
  kindMemo.set(key, { stamp, kind });
  return kind;
}

/** A companion path (a manifest's shard, an external data file), checked to stay inside the model's folder. */
function safeRelative(modelName: string, path: string): string {
  const normalised = path.replace(/\\/g, '/').replace(/^\.\//, '');
  if (normalised === '' || normalised.startsWith('/') || /^[a-z]+:/i.test(normalised) || normalised.split('/').includes('..')) {
    throw new ModelFileError(`${modelName}: the weights manifest refers to "${path}", outside the model's folder`);
  }
  return normalised;
}

/** The main file and, for model.json, every weight shard, with sizes. */
export async function gatherModelFiles(uri: vscode.Uri, kind: ModelKind): Promise<ModelFiles> {
  const name = baseName(uri);
  const relatives = [name];
  if (kind === 'tfjs') {
    // The file on disk is what the worker reads, so the shards come from the saved text.
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (error) {
      throw new ModelFileError(`${name}: ${describeFsError(error)}`);
    }
    for (const shard of weightShardPaths(text)) relatives.push(safeRelative(name, shard));
  }
  return statFiles(uri, kind, relatives);
}

/**
 * Companion files the worker's loader read (an ONNX model's external data), as ModelFiles of the
 * same model, for hashing into its cache entry. Paths come from the worker, which refused any that
 * leave the model's folder; they are checked again here.
 */
export async function companionFiles(model: ModelFiles, relatives: readonly string[]): Promise<ModelFiles> {
  const name = baseName(model.uri);
  return statFiles(model.uri, model.kind, relatives.map((path) => safeRelative(name, path)));
}

/** The model's files at these paths (relative to its folder), with sizes and modification times. */
async function statFiles(uri: vscode.Uri, kind: ModelKind, relatives: readonly string[]): Promise<ModelFiles> {
  const name = baseName(uri);
  const folder = vscode.Uri.joinPath(uri, '..');
  const files: ModelFile[] = [];
  for (const relative of relatives) {
    const fileUri = relative === name ? uri : vscode.Uri.joinPath(folder, ...relative.split('/'));
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(fileUri);
    } catch (error) {
      throw new ModelFileError(relative === name ? `${name}: ${describeFsError(error)}` : `${name}: weight file ${relative}: ${describeFsError(error)}`);
    }
    if (stat.type & vscode.FileType.Directory) throw new ModelFileError(`${relative}: is a directory, not a model file`);
    files.push({ relative, uri: fileUri, size: stat.size, mtime: stat.mtime });
  }
  return { uri, kind, files, totalBytes: files.reduce((sum, f) => sum + f.size, 0) };
}

function describeFsError(error: unknown): string {
  if (error instanceof vscode.FileSystemError) {
    switch (error.code) {
      case 'FileNotFound': return 'no such file';
      case 'NoPermissions': return 'permission denied';
      case 'FileIsADirectory': return 'is a directory, not a model file';
      default: break;
    }
  }
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? 'cannot be read';
}

/**
 * SHA-256 of each file. Local files are streamed and remembered by URI, size and mtime; files of
 * other schemes are read whole (the worker needs their bytes anyway), and the bytes kept in `bytes`.
 */
export class FileHasher {
  private readonly memo = new Map<string, { size: number; mtime: number; sha256: string }>();

  async hash(model: ModelFiles, bytes: Map<string, Uint8Array>): Promise<HashedFile[]> {
    const hashed: HashedFile[] = [];
    for (const file of model.files) {
      let sha256: string;
      if (file.uri.scheme !== 'file') {
        const data = await readBytes(file);
        bytes.set(file.relative, data);
        sha256 = sha256Hex(data);
      } else {
        const id = file.uri.toString();
        const known = this.memo.get(id);
        if (known && known.size === file.size && known.mtime === file.mtime) sha256 = known.sha256;
        else {
          sha256 = await sha256File(file.uri.fsPath).catch((error: unknown) => {
            throw new ModelFileError(`${file.relative}: ${describeFsError(error)}`);
          });
          this.memo.set(id, { size: file.size, mtime: file.mtime, sha256 });
        }
      }
      hashed.push({ path: file.relative, sha256 });
    }
    return hashed;
  }
}

async function readBytes(file: ModelFile): Promise<Uint8Array> {
  try {
    return await vscode.workspace.fs.readFile(file.uri);
  } catch (error) {
    throw new ModelFileError(`${file.relative}: ${describeFsError(error)}`);
  }
}

/** What the worker reads: a local path, or the bytes of every file read through workspace.fs. */
export async function modelSource(model: ModelFiles, bytes: Map<string, Uint8Array>): Promise<ModelSource> {
  if (model.uri.scheme === 'file') return { kind: 'path', path: model.uri.fsPath };
  const files: Record<string, Uint8Array> = {};
  for (const file of model.files) files[file.relative] = bytes.get(file.relative) ?? (await readBytes(file));
  return { kind: 'bytes', path: model.uri.toString(), main: model.files[0].relative, files };
}
