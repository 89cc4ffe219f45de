// Custom Keras layer classes declared by the user (--custom-layer CLASS=DECLARATION, setting
// lipschitzLens.customLayers). A custom class's maths lives in the code that loads the model, not
// in the file, so the reader never guesses it; a declaration states it (docs/op-coverage.md,
// "Custom layers"). Parsing is separate from the reader so the CLI and the extension check
// declarations before a run.

/** A number, or the name of a field of the layer's config that holds one. */
export type NumberSource = { value: number } | { field: string };

export type CustomLayerDeclaration =
  /** y = x: constant 1. */
  | { kind: 'identity' }
  /** y = a·x for a scalar a: constant |a|. */
  | { kind: 'scale'; factor: NumberSource }
  /** tf.depthToSpace(x, b) on NHWC (pixel shuffle): a permutation, constant 1. */
  | { kind: 'depth-to-space'; block: NumberSource }
  /** A map that keeps its input's shape, with the Lipschitz constant the user states. */
  | { kind: 'lipschitz'; constant: NumberSource }
  /** A map that keeps its input's shape, constant unknown: the row stays unsupported, the layers after it get shapes. */
  | { kind: 'same-shape' };

export const CUSTOM_LAYER_SYNTAX = 'identity, scale:A, depth-to-space:B, lipschitz:L or same-shape (A, B, L a number or a config field name)';

/** Parses one declaration ("scale:beta", "depth-to-space:2", ...); a message on error. */
export function parseCustomLayer(text: string): CustomLayerDeclaration | string {
  const trimmed = text.trim();
  const [kind, argument, ...rest] = trimmed.split(':').map((part) => part.trim());
  if (rest.length > 0) return `"${trimmed}" has more than one ":"; expected ${CUSTOM_LAYER_SYNTAX}`;
  const source = (): NumberSource | string => {
    if (argument === undefined || argument === '') return `"${kind}" needs a value after ":"; expected ${CUSTOM_LAYER_SYNTAX}`;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(argument)) return { field: argument };
    const value = Number(argument);
    return Number.isFinite(value) ? { value } : `"${argument}" is neither a number nor a config field name`;
  };
  const noArgument = (declaration: CustomLayerDeclaration) => (argument === undefined ? declaration : `"${kind}" takes no value`);
  switch (kind) {
    case 'identity':
      return noArgument({ kind: 'identity' });
    case 'same-shape':
      return noArgument({ kind: 'same-shape' });
    case 'scale': {
      const factor = source();
      return typeof factor === 'string' ? factor : { kind: 'scale', factor };
    }
    case 'depth-to-space': {
      const block = source();
      return typeof block === 'string' ? block : { kind: 'depth-to-space', block };
    }
    case 'lipschitz': {
      const constant = source();
      return typeof constant === 'string' ? constant : { kind: 'lipschitz', constant };
    }
    default:
      return `unknown declaration "${trimmed}"; expected ${CUSTOM_LAYER_SYNTAX}`;
  }
}

/** Parses a CLASS → declaration map; the first error as a message. */
export function parseCustomLayers(map: Record<string, string>): Record<string, CustomLayerDeclaration> | string {
  const parsed: Record<string, CustomLayerDeclaration> = {};
  for (const [className, text] of Object.entries(map)) {
    if (!/^[A-Za-z_][\w.>-]*$/.test(className)) return `"${className}" is not a layer class name`;
    const declaration = parseCustomLayer(text);
    if (typeof declaration === 'string') return `custom layer ${className}: ${declaration}`;
    parsed[className] = declaration;
  }
  return parsed;
}

/** The number a source names for one layer: its own value or the config field's; a message when the field is missing. */
export function resolveNumber(source: NumberSource, config: Record<string, unknown>): number | string {
  if ('value' in source) return source.value;
  const value = config[source.field];
  return typeof value === 'number' && Number.isFinite(value) ? value : `its config has no numeric field "${source.field}"`;
}

/** How a declaration reads in the report. */
export function describeDeclaration(className: string, text: string): string {
  return `declared by the user (${className}=${text.trim()})`;
}
