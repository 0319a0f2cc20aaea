/**
 * A small subset of HA templating (Jinja2 with HA's functions, homeassistant/helpers/template.py):
 * `{{ expression }}` blocks, with literals, lists, HA's state and area functions and a few filters.
 * Enough for an agent's `list_devices(area)`; anything else is a TemplateSyntaxError, so a client
 * relying on more finds out at once instead of rendering something wrong.
 */
import { pythonRepr, pythonStr, type StateMachine } from './state-machine.js';
import type { JsonObject, JsonValue } from './types.js';

/** A template failed to parse or render (HA's `TemplateError`); its message is HA's `Class: detail`. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Token =
  | { kind: 'str'; value: string }
  | { kind: 'num'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'punct'; value: string };

const TOKEN = /\s*(?:('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|([()[\],|]))/y;

function syntaxError(detail: string): TemplateError {
  return new TemplateError(`TemplateSyntaxError: ${detail}`);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (match === null) throw syntaxError(`unexpected char '${source.slice(at).trim()[0]}'`);
    const [, str, num, name, punct] = match;
    if (str !== undefined) tokens.push({ kind: 'str', value: str.slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (num !== undefined) tokens.push({ kind: 'num', value: Number(num) });
    else if (name !== undefined) tokens.push({ kind: 'name', value: name });
    else tokens.push({ kind: 'punct', value: punct! });
  }
  return tokens;
}

/** The functions HA adds that a device listing needs, bound to one home. */
function haFunctions(states: StateMachine): Record<string, (...args: JsonValue[]) => JsonValue> {
  const areaByName = (name: string) => states.areas.find((a) => a.name.toLowerCase() === name.toLowerCase());
  const areaById = (id: string) => states.areas.find((a) => a.id === id);
  // area_name and area_entities take an area id or name, area_id a name; each also an entity id.
  const areaOf = (lookup: JsonValue) => {
    const text = pythonStr(lookup);
    const area = areaById(text) ?? areaByName(text);
    if (area !== undefined) return area;
    const viaEntity = states.areaIdOf(text);
    return viaEntity === undefined ? undefined : areaById(viaEntity);
  };
  return {
    states: (entityId = '') => states.get(pythonStr(entityId))?.state ?? 'unknown',
    is_state: (entityId = '', value = '') => states.get(pythonStr(entityId))?.state === pythonStr(value),
    state_attr: (entityId = '', name = '') =>
      states.get(pythonStr(entityId))?.attributes[pythonStr(name)] ?? null,
    areas: () => states.areas.map((a) => a.id),
    area_id: (lookup = '') => {
      const text = pythonStr(lookup);
      const area = areaByName(text) ?? areaById(states.areaIdOf(text) ?? '');
      return area?.id ?? null;
    },
    area_name: (lookup = '') => areaOf(lookup)?.name ?? null,
    area_entities: (lookup = '') => {
      const text = pythonStr(lookup);
      const area = areaById(text) ?? areaByName(text);
      return area === undefined ? [] : states.entitiesInArea(area.id);
    },
  };
}

function toList(value: JsonValue): JsonValue[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (value !== null && typeof value === 'object') return Object.keys(value);
  throw new TemplateError(
    `TypeError: '${value === null ? 'NoneType' : typeof value}' object is not iterable`,
  );
}

const FILTERS: Record<string, (value: JsonValue, ...args: JsonValue[]) => JsonValue> = {
  // HA's to_json is orjson: compact, no spaces.
  tojson: (v) => JSON.stringify(v),
  to_json: (v) => JSON.stringify(v),
  join: (v, sep = '') => toList(v).map(pythonStr).join(pythonStr(sep)),
  length: (v) => toList(v).length,
  count: (v) => toList(v).length,
  list: (v) => toList(v),
  first: (v) => toList(v)[0] ?? null,
  last: (v) => toList(v).at(-1) ?? null,
  sort: (v) =>
    [...toList(v)].sort((a, b) => (pythonStr(a) < pythonStr(b) ? -1 : pythonStr(a) > pythonStr(b) ? 1 : 0)),
  lower: (v) => pythonStr(v).toLowerCase(),
  upper: (v) => pythonStr(v).toUpperCase(),
  string: (v) => pythonStr(v),
  default: (v, fallback = '') => (v === null ? fallback : v),
};

/** Undefined names render as '' (HA's non-strict undefined) and are only an error when called. */
const UNDEFINED = Symbol('undefined');
type Value = JsonValue | typeof UNDEFINED;

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly functions: Record<string, (...args: JsonValue[]) => JsonValue>,
    private readonly variables: JsonObject,
  ) {}

  parse(): Value {
    const value = this.expression();
    if (this.at < this.tokens.length)
      throw syntaxError(`unexpected '${this.describe(this.tokens[this.at]!)}'`);
    return value;
  }

  private describe(token: Token): string {
    return String(token.value);
  }

  private peek(punct: string): boolean {
    const token = this.tokens[this.at];
    return token?.kind === 'punct' && token.value === punct;
  }

  private expect(punct: string): void {
    if (!this.peek(punct)) {
      const token = this.tokens[this.at];
      throw syntaxError(
        token === undefined
          ? 'unexpected end of template'
          : `expected '${punct}', got '${this.describe(token)}'`,
      );
    }
    this.at++;
  }

  private arguments(close: string): JsonValue[] {
    const args: JsonValue[] = [];
    while (!this.peek(close)) {
      args.push(defined(this.expression()));
      if (!this.peek(close)) this.expect(',');
    }
    this.expect(close);
    return args;
  }

  private expression(): Value {
    let value = this.primary();
    while (this.peek('|')) {
      this.at++;
      const token = this.tokens[this.at++];
      if (token?.kind !== 'name') throw syntaxError('expected a filter name');
      const filter = FILTERS[token.value];
      if (filter === undefined)
        throw new TemplateError(`TemplateAssertionError: No filter named '${token.value}'.`);
      let args: JsonValue[] = [];
      if (this.peek('(')) {
        this.at++;
        args = this.arguments(')');
      }
      value = filter(defined(value), ...args);
    }
    return value;
  }

  private primary(): Value {
    const token = this.tokens[this.at++];
    if (token === undefined) throw syntaxError('unexpected end of template');
    if (token.kind === 'str' || token.kind === 'num') return token.value;
    if (token.kind === 'punct') {
      if (token.value === '[') return this.arguments(']');
      if (token.value === '(') {
        const inner = this.expression();
        this.expect(')');
        return inner;
      }
      throw syntaxError(`unexpected '${token.value}'`);
    }
    const literal: Record<string, JsonValue> = {
      true: true,
      True: true,
      false: false,
      False: false,
      none: null,
      None: null,
    };
    if (token.value in literal) return literal[token.value]!;
    if (this.peek('(')) {
      this.at++;
      const args = this.arguments(')');
      const fn = this.functions[token.value];
      if (fn === undefined) throw new TemplateError(`UndefinedError: '${token.value}' is undefined`);
      return fn(...args);
    }
    return token.value in this.variables ? this.variables[token.value]! : UNDEFINED;
  }
}

function defined(value: Value): JsonValue {
  return value === UNDEFINED ? '' : value;
}

/** Renders a template the way `POST /api/template` does (`parse_result=False`: plain text). */
export function renderTemplate(template: string, states: StateMachine, variables: JsonObject = {}): string {
  const functions = haFunctions(states);
  let out = '';
  let rest = template.replace(/\{#[\s\S]*?#\}/g, '');
  while (rest !== '') {
    const open = rest.search(/\{\{|\{%/);
    if (open < 0) {
      out += rest;
      break;
    }
    out += rest.slice(0, open);
    if (rest.startsWith('{%', open))
      throw syntaxError('ha-sim renders only {{ }} expressions, not {% %} statements');
    const close = rest.indexOf('}}', open);
    if (close < 0) throw syntaxError("unexpected end of template, expected '}}'");
    const value = defined(new Parser(tokenize(rest.slice(open + 2, close)), functions, variables).parse());
    out += typeof value === 'string' ? value : pythonRepr(value);
    rest = rest.slice(close + 2);
  }
  return out;
}
