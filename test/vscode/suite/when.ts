// A small evaluator of VS Code `when` clauses (the subset menus use: ==, !=, =~ /re/, !, &&, ||,
// parentheses, `in`/`not in`, bare keys, true/false), so the tests can check what the package.json
// menus actually match instead of comparing their text.

export type Context = Record<string, string | boolean | number | string[] | undefined>;

type Token =
  | { t: 'op'; v: '&&' | '||' | '!' | '(' | ')' | '==' | '!=' | '=~' | '===' | '!==' | '<' | '>' | '<=' | '>=' }
  | { t: 'word'; v: string }
  | { t: 'str'; v: string }
  | { t: 're'; v: RegExp }
  | { t: 'in' }
  | { t: 'notin' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 3);
    const op = ['===', '!==', '&&', '||', '==', '!=', '=~', '<=', '>='].find((o) => two.startsWith(o));
    if (op) {
      out.push({ t: 'op', v: op as never });
      i += op.length;
      if (op === '=~') {
        while (/\s/.test(src[i])) i++;
        if (src[i] !== '/') throw new Error(`expected a regex after =~ in ${src}`);
        let j = i + 1;
        let body = '';
        while (j < src.length && src[j] !== '/') {
          if (src[j] === '\\') {
            body += src[j] + src[j + 1];
            j += 2;
          } else body += src[j++];
        }
        j++;
        let flags = '';
        while (j < src.length && /[a-z]/.test(src[j])) flags += src[j++];
        out.push({ t: 're', v: new RegExp(body, flags) });
        i = j;
      }
      continue;
    }
    if ('!()<>'.includes(c)) {
      out.push({ t: 'op', v: c as never });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) s += src[j++];
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    let j = i;
    let w = '';
    while (j < src.length && !/[\s!()=&|<>'"]/.test(src[j])) w += src[j++];
    if (!w) throw new Error(`cannot read when clause at ${i}: ${src}`);
    if (w === 'in') out.push({ t: 'in' });
    else if (w === 'not' && /^\s+in\b/.test(src.slice(j))) {
      out.push({ t: 'notin' });
      j = src.indexOf('in', j) + 2;
    } else out.push({ t: 'word', v: w });
    i = j;
  }
  return out;
}

/** Evaluates `when` against `ctx` (unknown keys are undefined, as in VS Code). */
export function evaluateWhen(when: string | undefined, ctx: Context): boolean {
  if (!when || !when.trim()) return true;
  const tokens = tokenize(when);
  let p = 0;
  const peek = () => tokens[p];
  const value = (tok: Token | undefined): unknown => {
    if (!tok) throw new Error(`unexpected end of ${when}`);
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'word') {
      if (tok.v === 'true') return true;
      if (tok.v === 'false') return false;
      return tok.v;
    }
    throw new Error(`unexpected token in ${when}`);
  };
  const primary = (): boolean => {
    const tok = tokens[p++];
    if (!tok) throw new Error(`unexpected end of ${when}`);
    if (tok.t === 'op' && tok.v === '!') return !primary();
    if (tok.t === 'op' && tok.v === '(') {
      const v = or();
      const close = tokens[p++];
      if (!close || close.t !== 'op' || close.v !== ')') throw new Error(`missing ) in ${when}`);
      return v;
    }
    if (tok.t !== 'word') throw new Error(`unexpected token in ${when}`);
    if (tok.v === 'true') return true;
    if (tok.v === 'false') return false;
    const key = ctx[tok.v];
    const next = peek();
    if (next?.t === 'op' && ['==', '===', '!=', '!=='].includes(next.v)) {
      p++;
      const rhs = value(tokens[p++]);
      const eq = String(key) === String(rhs) || key === rhs;
      return next.v === '==' || next.v === '===' ? eq : !eq;
    }
    if (next?.t === 'op' && next.v === '=~') {
      p++;
      const re = tokens[p++];
      if (!re || re.t !== 're') throw new Error(`expected regex in ${when}`);
      return typeof key === 'string' && re.v.test(key);
    }
    if (next?.t === 'op' && ['<', '>', '<=', '>='].includes(next.v)) {
      p++;
      const rhs = Number(value(tokens[p++]));
      const k = Number(key);
      return next.v === '<' ? k < rhs : next.v === '>' ? k > rhs : next.v === '<=' ? k <= rhs : k >= rhs;
    }
    if (next?.t === 'in' || next?.t === 'notin') {
      p++;
      const container = ctx[String(value(tokens[p++]))];
      const has = Array.isArray(container) ? container.includes(String(key)) : false;
      return next.t === 'in' ? has : !has;
    }
    return Boolean(key);
  };
  const and = (): boolean => {
    let v = primary();
    while (peek()?.t === 'op' && (peek() as { v: string }).v === '&&') {
      p++;
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.t === 'op' && (peek() as { v: string }).v === '||') {
      p++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  if (p !== tokens.length) throw new Error(`trailing tokens in ${when}`);
  return result;
}

/** The context keys VS Code sets for a file resource (explorer selection / active editor). */
export function resourceContext(fileName: string, extra: Context = {}): Context {
  const dot = fileName.lastIndexOf('.');
  const ext = dot > 0 ? fileName.slice(dot) : '';
  const langId = ext === '.json' ? 'json' : ext === '.onnx' ? 'onnx' : ext === '.ts' ? 'typescript' : 'plaintext';
  return {
    resourceScheme: 'file',
    resourceFilename: fileName,
    resourceExtname: ext,
    resourceLangId: langId,
    resource: `file:///ws/${fileName}`,
    resourcePath: `/ws/${fileName}`,
    resourceDirname: '/ws',
    explorerResourceIsFolder: false,
    isFileSystemResource: true,
    ...extra,
  };
}
