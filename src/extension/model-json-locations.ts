// Finds where each layer (TF.js layers model) or node (TF.js graph model) sits in the text of a
// model.json, so lenses, hovers and "reveal" can point at it. A small JSON parser that keeps the
// offsets of every value; pure (no vscode), so it is unit-tested on real-looking files.

export type JsonNode =
  | { kind: 'object'; start: number; end: number; properties: JsonProperty[] }
  | { kind: 'array'; start: number; end: number; items: JsonNode[] }
  | { kind: 'string'; start: number; end: number; value: string }
  | { kind: 'number'; start: number; end: number; value: number }
  | { kind: 'boolean'; start: number; end: number; value: boolean }
  | { kind: 'null'; start: number; end: number };

export interface JsonProperty {
  key: string;
  keyStart: number;
  value: JsonNode;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 512;

/** Parses JSON text into a tree with offsets ([start, end) of each value). Throws JsonSyntaxError. */
export function parseJsonTree(text: string): JsonNode {
  let pos = 0;
  // A byte-order mark is not JSON but editors keep it; skip it.
  if (text.charCodeAt(0) === 0xfeff) pos = 1;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, pos);
  };

  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const parseString = (): string => {
    // text[pos] === '"'
    pos++;
    let out = '';
    let chunkStart = pos;
    while (true) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(chunkStart, pos);
        pos++;
        return out;
      }
      if (c === 0x5c) {
        out += text.slice(chunkStart, pos);
        const e = text[pos + 1];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(pos + 2, pos + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            pos += 4;
            break;
          }
          default:
            fail('bad escape');
        }
        pos += 2;
        chunkStart = pos;
        continue;
      }
      if (c < 0x20) fail('control character in string');
      pos++;
    }
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  const parseValue = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skipSpace();
    const start = pos;
    const c = text[pos];
    if (c === '{') {
      pos++;
      const properties: JsonProperty[] = [];
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', start, end: pos, properties };
      }
      while (true) {
        skipSpace();
        if (text[pos] !== '"') fail('expected a property name');
        const keyStart = pos;
        const key = parseString();
        skipSpace();
        if (text[pos] !== ':') fail('expected ":"');
        pos++;
        const value = parseValue(depth + 1);
        properties.push({ key, keyStart, value });
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return { kind: 'object', start, end: pos, properties };
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', start, end: pos, items };
      }
      while (true) {
        items.push(parseValue(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return { kind: 'array', start, end: pos, items };
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      const value = parseString();
      return { kind: 'string', start, end: pos, value };
    }
    if (text.startsWith('true', pos)) {
      pos += 4;
      return { kind: 'boolean', start, end: pos, value: true };
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return { kind: 'boolean', start, end: pos, value: false };
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return { kind: 'null', start, end: pos };
    }
    // Python's json writes these for non-finite floats; accept them rather than lose the file.
    for (const [word, value] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return { kind: 'number', start, end: pos, value };
      }
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match) {
      pos += match[0].length;
      return { kind: 'number', start, end: pos, value: Number(match[0]) };
    }
    return fail(pos >= text.length ? 'unexpected end of text' : `unexpected "${text[pos]}"`);
  };

  const root = parseValue(0);
  skipSpace();
  if (pos < text.length) fail('text after the JSON value');
  return root;
}

/** The value of `key` in an object node, or undefined. The last one wins, as in JSON.parse. */
export function property(node: JsonNode | undefined, key: string): JsonNode | undefined {
  if (!node || node.kind !== 'object') return undefined;
  let found: JsonNode | undefined;
  for (const p of node.properties) if (p.key === key) found = p.value;
  return found;
}

function stringProperty(node: JsonNode | undefined, key: string): string | undefined {
  const value = property(node, key);
  return value?.kind === 'string' ? value.value : undefined;
}

export interface LayerEntry {
  /** Position in the model's own listing (layers or nodes), the report's `sourceIndex`. */
  index: number;
  /** Layer name (config.name, or the entry's own name) or node name. */
  name: string | undefined;
  /** Keras class name (layers) or op (graph nodes). */
  op: string | undefined;
  /** Offsets of the entry's object: [start, end). */
  start: number;
  end: number;
  /** Offset of the `"name"` key that names the entry, when there is one. */
  nameOffset?: number;
}

export interface ModelJsonLocations {
  format: 'tfjs-layers' | 'tfjs-graph' | null;
  entries: LayerEntry[];
}

/** The layer listing of a layers-model topology: config.layers, or config itself in old Sequential files. */
function layerListing(topology: JsonNode | undefined): Extract<JsonNode, { kind: 'array' }> | undefined {
  const modelConfig = property(topology, 'model_config') ?? topology;
  const config = property(modelConfig, 'config');
  if (config?.kind === 'array') return config;
  const layers = property(config, 'layers');
  return layers?.kind === 'array' ? layers : undefined;
}

function findNameOffset(node: JsonNode, inner: JsonNode | undefined): number | undefined {
  for (const candidate of [inner, node]) {
    if (candidate?.kind !== 'object') continue;
    for (const p of candidate.properties) if (p.key === 'name' && p.value.kind === 'string') return p.keyStart;
  }
  return undefined;
}

/** Locates the layer entries of an already parsed model.json tree. */
export function locateInTree(root: JsonNode): ModelJsonLocations {
  const topology = property(root, 'modelTopology');
  const nodes = property(topology, 'node');
  if (nodes?.kind === 'array') {
    return {
      format: 'tfjs-graph',
      entries: nodes.items.map((node, index) => ({
        index,
        name: stringProperty(node, 'name'),
        op: stringProperty(node, 'op'),
        start: node.start,
        end: node.end,
        nameOffset: findNameOffset(node, undefined),
      })),
    };
  }
  const layers = layerListing(topology);
  if (layers) {
    return {
      format: 'tfjs-layers',
      entries: layers.items.map((layer, index) => {
        const config = property(layer, 'config');
        return {
          index,
          name: stringProperty(config, 'name') ?? stringProperty(layer, 'name'),
          op: stringProperty(layer, 'class_name'),
          start: layer.start,
          end: layer.end,
          nameOffset: findNameOffset(layer, config),
        };
      }),
    };
  }
  return { format: null, entries: [] };
}

/** Locates the layer entries in model.json text; an unparsable text has none. */
export function locateLayerEntries(text: string): ModelJsonLocations {
  let root: JsonNode;
  try {
    root = parseJsonTree(text);
  } catch {
    return { format: null, entries: [] };
  }
  return locateInTree(root);
}

/**
 * The entry of a report row: by `sourceIndex` when that entry carries the same name, a name the
 * row's extends ("sep/depthwise" and "sep/relu6" are rows of the layer "sep"), or no name; else the
 * first entry with the row's name.
 */
export function entryForLayer(
  entries: readonly LayerEntry[],
  layer: { name: string; sourceIndex?: number },
  byName?: ReadonlyMap<string, LayerEntry>,
): LayerEntry | undefined {
  if (layer.sourceIndex !== undefined && Number.isSafeInteger(layer.sourceIndex)) {
    const entry = entries[layer.sourceIndex];
    if (entry && (entry.name === undefined || entry.name === layer.name || layer.name.startsWith(`${entry.name}/`))) return entry;
  }
  if (byName) return byName.get(layer.name);
  return entries.find((entry) => entry.name === layer.name);
}

/** First entry per name, for matching many rows at once. */
export function entriesByName(entries: readonly LayerEntry[]): Map<string, LayerEntry> {
  const map = new Map<string, LayerEntry>();
  for (const entry of entries) if (entry.name !== undefined && !map.has(entry.name)) map.set(entry.name, entry);
  return map;
}

/** The entry whose object holds `offset`, or undefined. Entries do not nest, so a binary search works. */
export function entryAt(entries: readonly LayerEntry[], offset: number): LayerEntry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const entry = entries[mid];
    if (offset < entry.start) hi = mid - 1;
    else if (offset >= entry.end) lo = mid + 1;
    else return entry;
  }
  return undefined;
}

/** True for a TF.js model.json: a JSON object with both "modelTopology" and "weightsManifest". */
export function isTfjsModelJson(text: string): boolean {
  if (!text.includes('"modelTopology"') || !text.includes('"weightsManifest"')) return false;
  try {
    const value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && 'modelTopology' in value && 'weightsManifest' in value;
  } catch {
    return false;
  }
}

/** Weight shard paths named by a model.json's weightsManifest, in order, without duplicates. */
export function weightShardPaths(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return [];
  }
  const manifest = (value as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest)) return [];
  const paths: string[] = [];
  for (const group of manifest) {
    const groupPaths = (group as { paths?: unknown } | null)?.paths;
    if (!Array.isArray(groupPaths)) continue;
    for (const path of groupPaths) if (typeof path === 'string' && !paths.includes(path)) paths.push(path);
  }
  return paths;
}
