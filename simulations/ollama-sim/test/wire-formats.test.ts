/**
 * The Go behaviours the simulator reproduces to fail like Ollama: model names (types/model/name.go),
 * encoding/json's type errors, base64 of []byte fields, and the decoding of api.ChatRequest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64ErrorOffset, decodeBase64 } from '../src/base64.js';
import { GO_STRING, goDecode, goSlice, goStruct } from '../src/go-json.js';
import { fullModelName, isValidModelName, parseModelName, shortestModelName } from '../src/model-name.js';
import { textTokens } from '../src/reply.js';
import { parseChatRequest } from '../src/requests.js';
import { valueForSchema } from '../src/schema-values.js';

describe('model names', () => {
  it('should fill in the default host, namespace and tag like ParseName', () => {
    expect(fullModelName(parseModelName('llama3.2'))).toBe('registry.ollama.ai/library/llama3.2:latest');
    expect(fullModelName(parseModelName('me/mine:v1'))).toBe('registry.ollama.ai/me/mine:v1');
    expect(fullModelName(parseModelName('example.com:5000/team/m:q4'))).toBe('example.com:5000/team/m:q4');
    expect(shortestModelName(parseModelName('nope'))).toBe('nope:latest');
    expect(shortestModelName(parseModelName('me/mine'))).toBe('me/mine:latest');
  });

  it('should accept only names whose every part is valid', () => {
    for (const name of ['llama3.2:3b', 'a_b-c', 'me/m:tag.1', 'host.lan:80/ns/m:t']) {
      expect(isValidModelName(parseModelName(name))).toBe(true);
    }
    for (const name of ['', 'bad name', ':tag', 'model:', '-x', 'ns.dot/m', 'a'.repeat(81), 'm:t:t']) {
      expect(isValidModelName(parseModelName(name))).toBe(false);
    }
  });
});

describe('Go base64', () => {
  it('should report the offsets Go reports', () => {
    // base64.StdEncoding.Decode: padding required, newlines skipped, first bad byte reported.
    expect(base64ErrorOffset('aGk=')).toBeUndefined();
    expect(base64ErrorOffset('aGk=\n')).toBeUndefined();
    expect(base64ErrorOffset('aG\nk=')).toBeUndefined();
    expect(base64ErrorOffset('')).toBeUndefined();
    expect(base64ErrorOffset('abc')).toBe(0);
    expect(base64ErrorOffset('abcde')).toBe(4);
    expect(base64ErrorOffset('ab!d')).toBe(2);
    expect(base64ErrorOffset('a===')).toBe(1);
    expect(base64ErrorOffset('ab=')).toBe(3);
    expect(base64ErrorOffset('ab=x')).toBe(2);
    expect(base64ErrorOffset('aGk=aGk=')).toBe(4);
    expect(() => decodeBase64('not base64!')).toThrow('illegal base64 data at input byte 3');
  });

  it('should accept whatever Node encodes, and decode it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(base64ErrorOffset(text)).toBeUndefined();
        expect([...decodeBase64(text)]).toEqual([...bytes]);
      }),
    );
  });
});

describe('Go JSON decoding', () => {
  const inner = goStruct('Inner', { name: GO_STRING });
  const outer = goStruct('Outer', { items: goSlice(inner, '[]api.Inner'), title: GO_STRING });

  it('should name the innermost struct and the whole field path, as encoding/json does', () => {
    expect(() => goDecode({ items: [{ name: 5 }] }, outer)).toThrow(
      'json: cannot unmarshal number into Go struct field Inner.items.name of type string',
    );
    expect(() => goDecode({ items: {} }, outer)).toThrow(
      'json: cannot unmarshal object into Go struct field Outer.items of type []api.Inner',
    );
    expect(() => goDecode('x', outer)).toThrow(
      'json: cannot unmarshal string into Go value of type api.Outer',
    );
  });

  it('should keep the first mismatch, ignore unknown fields and match names case-insensitively', () => {
    expect(() => goDecode({ title: 1, items: [{ name: true }] }, outer)).toThrow(
      /Outer\.title of type string/,
    );
    expect(goDecode({ Title: 'x', extra: 1 }, outer)).toEqual({ title: 'x' });
  });

  it('should decode a chat request like api.ChatRequest, Message.UnmarshalJSON included', () => {
    const chat = (body: Record<string, unknown>) => () => parseChatRequest({ model: 'm', ...body });
    // Message decodes through a local Alias type and lowercases the role.
    expect(parseChatRequest({ model: 'm', messages: [{ role: 'USER', content: 'x' }] }).messages).toEqual([
      { role: 'user', content: 'x' },
    ]);
    expect(chat({ messages: [{ role: 'user', content: 5 }] })).toThrow(
      'json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type string',
    );
    expect(chat({ messages: ['hi'] })).toThrow(
      'json: cannot unmarshal string into Go struct field ChatRequest.messages of type api.Alias',
    );
    expect(chat({ messages: [{ role: 'user', images: ['%%%%'] }] })).toThrow(
      'illegal base64 data at input byte 0',
    );
    expect(chat({ think: 'very' })).toThrow(
      'invalid think value: "very" (must be "high", "medium", "low", "max", true, or false)',
    );
    expect(chat({ think: 1 })).toThrow(
      'think must be a boolean or string ("high", "medium", "low", "max", true, or false)',
    );
    expect(chat({ tools: [{ function: { name: 'f', parameters: { properties: [] } } }] })).toThrow(
      "Value looks like object, but can't find closing '}' symbol",
    );
    expect(chat({ top_logprobs: 21 })).toThrow('top_logprobs must be between 0 and 20');
    expect(chat({ keep_alive: true })).toThrow("Unsupported type: 'bool'");
  });

  it('should refuse tool-call arguments that are a string, as the ordered map behind them does', () => {
    // api.ToolCallFunctionArguments unmarshals into an ordered map; jsonparser.ObjectEach rejects
    // anything but an object with MalformedObjectError.
    const call = (args: unknown) => () =>
      parseChatRequest({
        model: 'm',
        messages: [
          { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: args } }] },
        ],
      });
    expect(call('{"city":"Lisbon"}')).toThrow("Value looks like object, but can't find closing '}' symbol");
    expect(call([1])).toThrow("Value looks like object, but can't find closing '}' symbol");
    expect(call({ city: 'Lisbon' })).not.toThrow();
    expect(call(null)).not.toThrow();
  });
});

describe('generated output', () => {
  it('should split text into tokens that join back to it', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(textTokens(text).join('')).toBe(text);
      }),
    );
    expect(textTokens('{"a": 1}')).toEqual(['{', '"', 'a', '"', ':', ' 1', '}']);
  });

  it('should build values that match simple schemas', () => {
    let n = 0;
    const source = { string: (key: string) => `s-${key}`, integer: () => n++ * 7, boolean: () => true };
    const value = valueForSchema(
      {
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer', minimum: 18, maximum: 20 },
          score: { type: 'number' },
          ok: { type: 'boolean' },
          color: { enum: ['red', 'green'] },
          tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
          maybe: { type: ['null', 'string'] },
          nested: { properties: { x: { const: 3 } } },
        },
      },
      source,
    );
    expect(value).toEqual({
      name: 's-name',
      age: 18,
      score: 7,
      ok: true,
      color: 'red',
      tags: ['s-', 's-'],
      maybe: 's-maybe',
      nested: { x: 3 },
    });
  });
});
