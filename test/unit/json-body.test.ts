import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#core/errors.ts';
import { assertPlainJson, safeName } from '#http/json.ts';

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/** The InvalidInputError `run` throws (fails the test when it throws nothing, or something else). */
function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError, got none');
}

/** Every key of every object inside a parsed JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  }
  return [];
}

/** `key` written with every character as a \uXXXX escape: the same key to JSON.parse. */
function escaped(key: string): string {
  return `"${Array.from({ length: key.length }, (_, i) => `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;
}

describe('assertPlainJson', () => {
  it.each([
    ['an empty text', ''],
    ['an unclosed object', '{"a":1'],
    ['single quotes', "{'a':1}"],
    ['a trailing comma', '{"a":1,}'],
    ['NaN', 'NaN'],
    ['trailing garbage', '{"a":1}x'],
    ['a comment', '{"a":1 /* no */}'],
  ])('refuses %s as malformed JSON', (_what, text) => {
    expect(refusal(() => assertPlainJson(text)).reason).toBe('MalformedJson');
  });

  it('returns plain values unchanged', () => {
    expect(assertPlainJson('{}')).toEqual({});
    expect(assertPlainJson('null')).toBeNull();
    expect(assertPlainJson('"x"')).toBe('x');
    expect(assertPlainJson(' {"a": [1, {"b": "c"}], "d": null} ')).toEqual({ a: [1, { b: 'c' }], d: null });
  });

  describe('duplicate keys', () => {
    it.each([
      ['at the top', '{"a":1,"a":2}'],
      ['with other keys between', '{"a":1,"b":2,"c":3,"a":4}'],
      ['inside a nested object', '{"x":{"a":1,"a":2}}'],
      ['inside an object in an array', '[1,{"a":1,"a":2}]'],
      ['after a nested object', '{"a":{"b":1},"a":2}'],
      ['written once plainly and once escaped', '{"a":1,"\\u0061":2}'],
      ['written twice with different escapes', '{"\\u00e9":1,"é":2}'],
      ['escaped with a slash', '{"a/b":1,"a\\/b":2}'],
    ])('refuses a duplicate key %s', (_where, text) => {
      const error = refusal(() => assertPlainJson(text));
      expect(error.reason).toBe('DuplicateField');
    });

    it('accepts the same key in different objects', () => {
      expect(assertPlainJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
      expect(assertPlainJson('{"a":{"a":{"a":1}}}')).toEqual({ a: { a: { a: 1 } } });
    });

    it('is not fooled by strings that look like keys or braces', () => {
      const text = '{"a":"\\"a\\":1","b":"{\\"b\\":2,\\"b\\":3}","c":["a","a"],"d":"}"}';
      expect(assertPlainJson(text)).toEqual(JSON.parse(text));
    });

    it('refuses any key given twice, however the second is escaped', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 12 }).filter((key) => !FORBIDDEN.includes(key)),
          (key) => {
            const text = `{${JSON.stringify(key)}:1,"other":true,${escaped(key)}:2}`;
            expect(refusal(() => assertPlainJson(text)).reason).toBe('DuplicateField');
          },
        ),
      );
    });
  });

  describe('prototype-pollution keys', () => {
    it.each(FORBIDDEN)('refuses the key %s, at the top or nested', (key) => {
      expect(refusal(() => assertPlainJson(`{"${key}":{}}`)).reason).toBe('ForbiddenKey');
      expect(refusal(() => assertPlainJson(`{"a":[{"${key}":1}]}`)).reason).toBe('ForbiddenKey');
    });

    it('refuses an escaped __proto__ too', () => {
      expect(refusal(() => assertPlainJson(`{${escaped('__proto__')}:{"admin":true}}`)).reason).toBe(
        'ForbiddenKey',
      );
    });

    it('accepts those words as values', () => {
      expect(assertPlainJson('{"a":"__proto__","b":["constructor"]}')).toEqual({
        a: '__proto__',
        b: ['constructor'],
      });
    });
  });

  describe('depth', () => {
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

    it('accepts 16 levels of arrays or objects', () => {
      expect(() => assertPlainJson(nested(16))).not.toThrow();
      expect(() => assertPlainJson(nestedObjects(16))).not.toThrow();
    });

    it('refuses 17 levels', () => {
      expect(refusal(() => assertPlainJson(nested(17))).reason).toBe('MalformedJson');
      expect(refusal(() => assertPlainJson(nestedObjects(17))).reason).toBe('MalformedJson');
    });

    it('counts depth, not the number of containers', () => {
      const wide = `[${Array.from({ length: 100 }, () => nested(10)).join(',')}]`;
      expect(() => assertPlainJson(wide)).not.toThrow();
    });
  });

  it('returns exactly what JSON.parse returns for any JSON without duplicate or forbidden keys', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8, stringUnit: 'binary' }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        if (keysOf(JSON.parse(text)).some((key) => FORBIDDEN.includes(key))) {
          // fast-check favours such keys: they must be refused, never passed through.
          expect(refusal(() => assertPlainJson(text)).reason).toBe('ForbiddenKey');
        } else {
          expect(assertPlainJson(text)).toStrictEqual(JSON.parse(text));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never names a duplicate key, nor anything of it, in its message', () => {
    const error = refusal(() => assertPlainJson('{"\\u0000evil\\u202e":1,"\\u0000evil\\u202e":2}'));
    expect(error.message).toBe('The request body gives a field more than once.');
    expect(error.field).toBeUndefined();
  });

  it('never repeats any part of a duplicate key in its message or its field (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.stringMatching(/^[a-z0-9]{10}$/),
        (noise, core) => {
          const key = `Qx${core}${noise}`;
          const error = refusal(() => assertPlainJson(`{${JSON.stringify(key)}:1,${JSON.stringify(key)}:2}`));
          expect(error.reason).toBe('DuplicateField');
          expect(`${error.message} ${error.field}`).not.toContain(core);
        },
      ),
    );
  });
});

describe('safeName', () => {
  it('keeps printable ASCII, replaces the rest, and cuts long names at 64 characters', () => {
    expect(safeName('userName')).toBe('userName');
    expect(safeName('a\tb\u200bc')).toBe('a?b?c');
    expect(safeName('k'.repeat(100))).toBe(`${'k'.repeat(64)}…`);
  });
});
