/**
 * Refusals never repeat what the caller sent (issue 9, finding 10): the shared request
 * parsing names only fields a route defines and the rule broken — never a value, an unknown
 * field or parameter name, or a duplicate's name. Every caller-chosen piece below carries a
 * distinctive core (`Qx` + 10 random characters) that must not appear in any message or in
 * the error's `field`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import { changePasswordRequest } from '#functions/change-password/schema.ts';
import { uiPasswordRequest } from '#functions/create-or-reset-ui-password/schema.ts';
import { manageDdmAdminRequest } from '#functions/manage-ddm-admin/schema.ts';
import { randomPasswordQuery, randomPasswordRequest } from '#functions/reset-random-password/schema.ts';
import { resetUserPasswordRequest } from '#functions/reset-user-password/schema.ts';
import { ticketDetail } from '#functions/ticket-worker/schema.ts';
import {
  formBody,
  type HttpEvent,
  parseInput,
  queryParameters,
  refuseUnknownQueryParameters,
} from '#http/request.ts';

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError, got none');
}

/** What a caller reads (the message) and what a dialect may turn into a code (field, reason). */
const exposed = (error: InvalidInputError) => `${error.message} ${error.field} ${error.reason}`;

const core = fc.stringMatching(/^[a-z0-9]{10}$/).map((random) => `Qx${random}`);
/** Text around a core: anything, unicode, quotes, brackets, dots, `=` and `&`. */
const noise = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('', '[x]', '.y', '"', '\\', '=', ' ', '\u202e', '__proto__'),
);
/** A caller-chosen name or value around a fresh core. */
const marked = fc.tuple(noise, core, noise).map(([before, mark, after]) => ({
  text: `${before}${mark}${after}`,
  core: mark,
}));

const event = (fields: Partial<HttpEvent>): HttpEvent =>
  ({ headers: {}, requestContext: { requestId: 'r-1' }, isBase64Encoded: false, ...fields }) as HttpEvent;

/** Every request schema, with the names it defines (its own and its `body`'s). */
const ROUTE_SCHEMAS: Array<[string, z.ZodMiniObject]> = [
  ['change-password', changePasswordRequest],
  ['uiPassword', uiPasswordRequest],
  ['random-password', randomPasswordRequest],
  ['random-password query', randomPasswordQuery],
  ['ResetUserPassword', resetUserPasswordRequest],
  ['DDM admin-user', manageDdmAdminRequest],
  ['ticket', ticketDetail],
];

function namesOf(schema: z.ZodMiniObject): string[] {
  const own = Object.keys(schema.shape);
  const body = (schema.shape as Record<string, z.core.$ZodType>).body;
  const inner = (body?._zod.def as { innerType?: { _zod: { def: { shape?: object } } } } | undefined)
    ?.innerType;
  const bodyShape = (body?._zod.def as { shape?: object } | undefined)?.shape ?? inner?._zod.def.shape ?? {};
  return [...own, ...Object.keys(bodyShape)];
}

describe('parseInput', () => {
  it('counts unknown fields and never names them (the finding: a form password’s tail)', () => {
    // `Password=Ab1!xyz&FormLeak-Tail-444`, as a form parser reads it.
    const error = refusal(() =>
      parseInput(resetUserPasswordRequest, {
        DirectoryId: 'demo',
        UserId: 'u-alice',
        Password: 'Ab1!xyz',
        'FormLeak-Tail-444': '',
      }),
    );
    expect(error.message).toBe('The request has 1 unknown field; unknown fields are not allowed.');
    expect(exposed(error)).not.toContain('FormLeak');
    expect(exposed(error)).not.toContain('Ab1!xyz');
  });

  it('says how many unknown fields a body has, under the name of the body', () => {
    const error = refusal(() =>
      parseInput(manageDdmAdminRequest, {
        project_id: 'p',
        instance_id: 'i',
        body: { name: 'root', password: 'x', isAdmin: true, role: 'root' },
      }),
    );
    expect(error.message).toBe('The request body has 2 unknown fields; unknown fields are not allowed.');
  });

  it.each(ROUTE_SCHEMAS)(
    'never repeats an unknown name or any value given to %s (property)',
    (_name, schema) => {
      const known = namesOf(schema);
      const value = fc.oneof(
        marked.map((m) => ({ sent: m.text as unknown, core: m.core })),
        fc.tuple(marked, fc.constantFrom('object', 'array')).map(([m, shape]) => ({
          sent: shape === 'object' ? { [m.text]: m.text } : [m.text],
          core: m.core,
        })),
      );
      const fields = fc.dictionary(fc.constantFrom(...known), value, { maxKeys: 4 });
      const unknown = fc.array(fc.tuple(marked, value), { maxLength: 3 });
      let refused = 0;
      fc.assert(
        fc.property(fields, unknown, fields, unknown, (top, topUnknown, body, bodyUnknown) => {
          const cores: string[] = [];
          const build = (knownFields: typeof top, unknownFields: typeof topUnknown) => {
            const object: Record<string, unknown> = {};
            for (const [key, v] of Object.entries(knownFields)) {
              object[key] = v.sent;
              cores.push(v.core);
            }
            for (const [name, v] of unknownFields) {
              Object.defineProperty(object, name.text, { value: v.sent, enumerable: true });
              cores.push(name.core, v.core);
            }
            return object;
          };
          const input = build(top, topUnknown);
          if ('body' in schema.shape) input.body = build(body, bodyUnknown);
          if (schema.safeParse(input).success) return;
          const error = refusal(() => parseInput(schema, input));
          refused++;
          expect(error.message).toMatch(/^[A-Z].*\.$/s);
          for (const mark of cores) expect(exposed(error)).not.toContain(mark);
        }),
        { numRuns: 150 },
      );
      // Most samples are refused: the property above was checked, not skipped.
      expect(refused).toBeGreaterThan(75);
    },
  );

  it('names a field only as far as the schema defines it (a record’s keys are the caller’s)', () => {
    const schema = z.strictObject({ tags: z.record(z.string(), z.number()) });
    const error = refusal(() => parseInput(schema, { tags: { QxSecretKey1: 'one' } }));
    expect(error.message).toBe('Parameter tags must be a number.');
    expect(error.field).toBe('tags');
  });
});

describe('the query string and form bodies', () => {
  it('refuses an unknown query parameter, counting it and naming only the accepted ones', () => {
    const error = refusal(() =>
      refuseUnknownQueryParameters(event({ rawQueryString: 'notification_type=email&QxUnknown1=v' }), [
        'notification_type',
      ]),
    );
    expect(error.message).toBe(
      'The query string has 1 unknown parameter this route does not define; it takes only notification_type.',
    );
    expect(exposed(error)).not.toContain('QxUnknown1');
  });

  it('refuses any query parameter on a route that takes none, and lets an empty query through', () => {
    expect(
      refusal(() => refuseUnknownQueryParameters(event({ rawQueryString: 'userId=u-alice&b=2' }), []))
        .message,
    ).toBe(
      'The query string has 2 unknown parameters this route does not define; it takes no query parameters.',
    );
    expect(() => refuseUnknownQueryParameters(event({ rawQueryString: '' }), [])).not.toThrow();
    expect(() => refuseUnknownQueryParameters(event({}), [])).not.toThrow();
    expect(() =>
      refuseUnknownQueryParameters(event({ rawQueryString: 'notification_type=phone' }), [
        'notification_type',
      ]),
    ).not.toThrow();
  });

  it('never repeats an unknown or repeated name, or a value, of the query or a form body (property)', () => {
    const pair = fc.tuple(marked, marked);
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 4 }), fc.boolean(), (pairs, repeat) => {
        const list = repeat ? [...pairs, pairs[0] as (typeof pairs)[number]] : pairs;
        const raw = list
          .map(([name, value]) => `${encodeURIComponent(name.text)}=${encodeURIComponent(value.text)}`)
          .join('&');
        const cores = list.flatMap(([name, value]) => [name.core, value.core]);
        const query = event({ rawQueryString: raw });
        const form = event({ body: raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const errors = [
          refusal(() => refuseUnknownQueryParameters(query, ['DirectoryId', 'UserId'])),
          ...(repeat ? [refusal(() => queryParameters(query)), refusal(() => formBody(form))] : []),
        ];
        for (const error of errors) for (const mark of cores) expect(exposed(error)).not.toContain(mark);
      }),
      { numRuns: 300 },
    );
  });

  it('names a forbidden root by rekey’s own word, not by the caller’s text around it', () => {
    const error = refusal(() => queryParameters(event({ rawQueryString: '__proto__[QxAround1]=v' })));
    expect(error.message).toBe('The request may not contain the query parameter __proto__.');
    expect(exposed(error)).not.toContain('QxAround1');
  });

  it('does not name a repeated parameter', () => {
    const error = refusal(() => queryParameters(event({ rawQueryString: 'QxTwice1=a&QxTwice1=b' })));
    expect(error.message).toBe('A query parameter is given more than once.');
    expect(exposed(error)).not.toContain('QxTwice1');
  });
});
