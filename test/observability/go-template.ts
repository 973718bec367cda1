/**
 * A small substitute for Go's text/template, enough to render the alert manager's SNS templates
 * (lib/observability/prometheus-rules.ts) against Alertmanager's template data in a test. No Go
 * template engine is in node_modules, and no Go toolchain is on the machine, so this is written
 * from the text/template and Alertmanager documentation and source, for exactly the constructs the
 * templates use, and it refuses everything else (so a template that grows a construct this does not
 * know fails the test instead of rendering wrongly):
 *
 * - text, and actions `{{ ... }}` with the trim markers `{{- ` and ` -}}` (which remove all
 *   adjacent white space: space, tab, carriage return, newline);
 * - `{{ range $i, $x := PIPELINE }}...{{ end }}` over a list; `{{ if PIPELINE }}...{{ end }}` with
 *   Go's truth (false, 0, "", nil, an empty list or map are false); no `else`;
 * - pipelines: a field or method chain from `.` or a variable (`.Receiver`, `$a.Labels.SortedPairs`,
 *   `$a.StartsAt.Format "layout"`: the last method of a chain takes the arguments), string literals,
 *   and `printf` with the verb `%q` only; no `|`, no parentheses, no other function;
 * - on a map, a method is looked up before a key, and a missing key is the empty string (map[string]string);
 * - `%q` is Go's strconv.Quote: `"` and `\` escaped, printable runes kept, `\a \b \f \n \r \t \v`,
 *   `\xNN` for other control characters and DEL, `\uNNNN` / `\UNNNNNNNN` for other non-printable runes.
 *
 * The data model mirrors Alertmanager's `template.Data`: `KV` with `SortedPairs` (by name, with
 * `alertname` first, as Alertmanager sorts), and a time with `Format` for the one layout used.
 */

/** Alertmanager's `template.KV`: a map[string]string with `SortedPairs`. */
export class KV {
  constructor(private readonly entries: Record<string, string>) {}

  /** Pairs sorted by name, `alertname` first (Alertmanager's template.KV.SortedPairs). */
  public SortedPairs(): { Name: string; Value: string }[] {
    const names = Object.keys(this.entries).sort((a, b) => (a === b ? 0 : a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1));
    return names.map(n => ({ Name: n, Value: this.entries[n] }));
  }

  /** Map indexing. */
  public get(key: string): string {
    return this.entries[key] ?? '';
  }

  public get size(): number {
    return Object.keys(this.entries).length;
  }
}

/** A Go `time.Time` in UTC, with `Format` for RFC 3339 with milliseconds. */
export class GoTime {
  constructor(private readonly iso: string) {
    if (!/Z$/.test(iso) || !Number.isFinite(Date.parse(iso))) {
      throw new Error(`GoTime: give a UTC time (…Z), got '${iso}'`);
    }
  }

  public Format(layout: string): string {
    if (layout !== '2006-01-02T15:04:05.000Z07:00') {
      throw new Error(`GoTime.Format: the substitute knows the layout 2006-01-02T15:04:05.000Z07:00 only, got '${layout}'`);
    }
    return new Date(this.iso).toISOString(); // UTC: Go writes Z for a zero offset, and .000 keeps three digits.
  }
}

/** Alertmanager's `template.Alert`. */
export interface GoAlert {
  readonly Status: 'firing' | 'resolved';
  readonly Labels: KV;
  readonly Annotations: KV;
  readonly StartsAt: GoTime;
  readonly EndsAt: GoTime;
  readonly GeneratorURL: string;
  readonly Fingerprint: string;
}

/** Alertmanager's `template.Data`. */
export interface GoTemplateData {
  readonly Receiver: string;
  readonly Status: 'firing' | 'resolved';
  readonly Alerts: GoAlert[];
  readonly GroupLabels: KV;
  readonly CommonLabels: KV;
  readonly CommonAnnotations: KV;
  readonly ExternalURL: string;
}

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: string[] }
  | { t: 'range'; vars: string[]; pipe: string[]; body: Node[] }
  | { t: 'if'; pipe: string[]; body: Node[] };

/** Renders a template against data, as text/template's Execute would. */
export function renderGoTemplate(template: string, data: unknown): string {
  const nodes = parse(lex(template));
  const out: string[] = [];
  exec(nodes, [{ $: data }], data, out);
  return out.join('');
}

/** Text and action pieces, with the trim markers applied. */
function lex(src: string): Array<{ text: string } | { action: string }> {
  const pieces: Array<{ text: string } | { action: string }> = [];
  let rest = src;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) {
      text = text.replace(/^[ \t\r\n]+/, '');
    }
    if (open < 0) {
      pieces.push({ text });
      break;
    }
    let inner = rest.slice(open + 2);
    if (inner.startsWith('- ')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner = inner.slice(2);
    }
    pieces.push({ text });
    const close = closingDelimiter(inner);
    let action = inner.slice(0, close);
    trimNext = / -$/.test(action);
    if (trimNext) {
      action = action.slice(0, -2);
    }
    pieces.push({ action: action.trim() });
    rest = inner.slice(close + 2);
  }
  return pieces.filter(p => !('text' in p) || p.text.length > 0);
}

/** The index of the `}}` that closes an action, outside string literals. */
function closingDelimiter(s: string): number {
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    if (inString) {
      if (s[i] === '\\') {
        i++;
      } else if (s[i] === '"') {
        inString = false;
      }
    } else if (s[i] === '"') {
      inString = true;
    } else if (s.startsWith('}}', i)) {
      return i;
    }
  }
  throw new Error('go-template: unclosed action');
}

function tokens(action: string): string[] {
  return action.match(/"(?:[^"\\]|\\.)*"|:=|,|[^\s,"]+/g) ?? [];
}

function parse(pieces: Array<{ text: string } | { action: string }>): Node[] {
  const stack: Node[][] = [[]];
  const open: Node[] = [];
  for (const p of pieces) {
    const top = stack[stack.length - 1];
    if ('text' in p) {
      top.push({ t: 'text', text: p.text });
      continue;
    }
    const toks = tokens(p.action);
    if (toks[0] === 'end') {
      if (open.length === 0) {
        throw new Error('go-template: unexpected {{end}}');
      }
      open.pop();
      stack.pop();
    } else if (toks[0] === 'range') {
      const decl = toks.indexOf(':=');
      if (decl < 0) {
        throw new Error('go-template substitute: range needs `$i, $x :=`');
      }
      const vars = toks.slice(1, decl).filter(t => t !== ',');
      const node: Node = { t: 'range', vars, pipe: toks.slice(decl + 1), body: [] };
      top.push(node);
      open.push(node);
      stack.push(node.body);
    } else if (toks[0] === 'if') {
      const node: Node = { t: 'if', pipe: toks.slice(1), body: [] };
      top.push(node);
      open.push(node);
      stack.push(node.body);
    } else if (['else', 'with', 'define', 'template', 'block', 'break', 'continue'].includes(toks[0]) || toks[0].startsWith('/*')) {
      throw new Error(`go-template substitute: '${toks[0]}' is not supported`);
    } else {
      top.push({ t: 'action', pipe: toks });
    }
  }
  if (open.length > 0) {
    throw new Error('go-template: missing {{end}}');
  }
  return stack[0];
}

type Scope = Record<string, unknown>;

function lookup(scopes: Scope[], name: string): unknown {
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (name in scopes[i]) {
      return scopes[i][name];
    }
  }
  throw new Error(`go-template: undefined variable ${name}`);
}

function exec(nodes: Node[], scopes: Scope[], dot: unknown, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') {
      out.push(n.text);
    } else if (n.t === 'action') {
      out.push(print(evalPipe(n.pipe, scopes, dot)));
    } else if (n.t === 'if') {
      if (truth(evalPipe(n.pipe, scopes, dot))) {
        exec(n.body, [...scopes, {}], dot, out);
      }
    } else {
      const list = evalPipe(n.pipe, scopes, dot);
      if (!Array.isArray(list)) {
        throw new Error('go-template substitute: range over a list only');
      }
      list.forEach((item, i) => {
        const vars: Scope = n.vars.length === 2 ? { [n.vars[0]]: i, [n.vars[1]]: item } : { [n.vars[0]]: item };
        exec(n.body, [...scopes, vars], item, out);
      });
    }
  }
}

function evalPipe(toks: string[], scopes: Scope[], dot: unknown): unknown {
  if (toks.includes('|') || toks.some(t => t.startsWith('('))) {
    throw new Error(`go-template substitute: pipes and parentheses are not supported (${toks.join(' ')})`);
  }
  const [head, ...rest] = toks;
  const args = rest.map(t => operand(t, scopes, dot));
  if (head === 'printf') {
    if (args[0] !== '%q' || args.length !== 2) {
      throw new Error(`go-template substitute: printf "%q" ARG only (got ${toks.join(' ')})`);
    }
    return goQuote(String(args[1]));
  }
  if (head.startsWith('.') || head.startsWith('$')) {
    return chain(head, scopes, dot, args);
  }
  if (head.startsWith('"')) {
    return JSON.parse(head);
  }
  throw new Error(`go-template substitute: function '${head}' is not supported`);
}

function operand(tok: string, scopes: Scope[], dot: unknown): unknown {
  if (tok.startsWith('"')) {
    return JSON.parse(tok);
  }
  if (tok.startsWith('.') || tok.startsWith('$')) {
    return chain(tok, scopes, dot, []);
  }
  throw new Error(`go-template substitute: cannot evaluate '${tok}'`);
}

/** `.A.B`, `$x.A.B`: fields, map keys, and methods (the last one called with `args`). */
function chain(expr: string, scopes: Scope[], dot: unknown, args: unknown[]): unknown {
  const [root, ...rest] = expr.split('.');
  const names = expr === '.' ? [] : rest;
  let v: unknown = root === '' ? dot : lookup(scopes, root);
  let calledWithArgs = false;
  names.forEach((f, i) => {
    const last = i === names.length - 1;
    const member = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[f] : undefined;
    if (typeof member === 'function' && /^[A-Z]/.test(f)) {
      calledWithArgs = last && args.length > 0;
      v = (member as (...a: unknown[]) => unknown).apply(v, last ? args : []);
    } else if (v instanceof KV) {
      v = v.get(f);
    } else if (v !== null && typeof v === 'object' && f in (v as object)) {
      v = member;
    } else {
      throw new Error(`go-template: can't evaluate field ${f} in ${expr}`);
    }
  });
  if (args.length > 0 && !calledWithArgs) {
    throw new Error(`go-template: ${expr} is not a method and takes no arguments`);
  }
  return v;
}

function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') {
    return false;
  }
  if (Array.isArray(v)) {
    return v.length > 0;
  }
  if (v instanceof KV) {
    return v.size > 0;
  }
  return true;
}

function print(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  throw new Error(`go-template substitute: printing ${typeof v} values is not supported`);
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += `\\${ch}`;
    } else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) {
      out += ch;
    } else {
      const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
      if (named[r]) {
        out += named[r];
      } else if (r < 0x20 || r === 0x7f) {
        out += `\\x${r.toString(16).padStart(2, '0')}`;
      } else if (r < 0x10000) {
        out += `\\u${r.toString(16).padStart(4, '0')}`;
      } else {
        out += `\\U${r.toString(16).padStart(8, '0')}`;
      }
    }
  }
  return `${out}"`;
}
