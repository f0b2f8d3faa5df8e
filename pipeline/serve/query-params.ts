import { isIP } from 'node:net';
import { z } from 'zod';
import { SENSOR_NAME, SENSOR_NAME_RULE } from '../../db/sensors.js';
import { parseUtcTime, UTC_TIME_FORMS } from '../../db/utc-time.js';

// Every page's query string, checked against a fixed list before any of it reaches a query: a
// value that is not allowed is a 400 that says which parameter, what it was and what is allowed.
// Filters and sort keys are chosen from these lists; values go to SQL only as bound parameters.

/** A query string that is not allowed: the message is shown to the user as it is. */
export class BadQuery extends Error {
  override readonly name = 'BadQuery';
}

// HTML forms send an empty field for every input left blank: that means "not set".
const blankToUndefined = (value: unknown): unknown => (value === '' ? undefined : value);

function described<T extends z.ZodType>(schema: T, allowed: string) {
  return z.preprocess(blankToUndefined, schema.optional()).describe(allowed);
}

/** The CLI's rule (`parseUtcTime`): a date, or a date and time with no zone taken as UTC, as epoch seconds. */
export const timeParam = described(
  z.string().transform((value, context) => {
    const ms = parseUtcTime(value);
    if (ms === null) {
      context.addIssue({ code: 'custom', message: 'is not a date' });
      return z.NEVER;
    }
    return ms / 1000;
  }),
  UTC_TIME_FORMS,
);

export const hostParam = described(
  z.string().refine((value) => isIP(value) !== 0, { error: 'is not an address' }),
  'an IPv4 or IPv6 address (10.1.0.5, 2001:db8::1)',
);

export const sensorParam = described(z.string().regex(SENSOR_NAME, { error: 'is not a sensor name' }), SENSOR_NAME_RULE);

export function choiceParam<const T extends readonly string[]>(values: T) {
  return described(z.enum(values), values.join(', '));
}

export function wholeParam(min: number) {
  return described(z.coerce.number().int().min(min).max(Number.MAX_SAFE_INTEGER), `a whole number of ${min} or more`);
}

export const scoreParam = described(z.coerce.number().min(0).max(Number.MAX_VALUE), 'a number of 0 or more');

/** The next page's start: the last row's sort value and id, as `<value>_<id>`. */
export const cursorParam = described(
  z.string().transform((value, context) => {
    const match = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)_(\d+)$/i.exec(value);
    const parsed = match === null ? null : { value: Number(match[1]), id: Number(match[2]) };
    if (parsed === null || !Number.isFinite(parsed.value) || !Number.isSafeInteger(parsed.id)) {
      context.addIssue({ code: 'custom', message: 'is not a page cursor' });
      return z.NEVER;
    }
    return parsed;
  }),
  'a cursor as the page links give it (<sort value>_<id>)',
);

export const flagParam = described(z.literal('1'), '1, or leave it out');

/**
 * The query string `search` checked against `shape`: the parsed values, or a BadQuery naming each
 * bad parameter (an unknown one included) with what is allowed.
 */
export function parseQuery<Shape extends Record<string, z.ZodType>>(search: URLSearchParams, shape: Shape): z.infer<z.ZodObject<Shape>> {
  const input: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of search) {
    if (key in input) problems.push(`${key} is given more than once; give it once`);
    input[key] = value;
  }
  const known = Object.keys(shape);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) problems.push(`${key} is not a parameter of this page; allowed: ${known.length === 0 ? 'none' : known.join(', ')}`);
  }
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      const schema = shape[key];
      problems.push(`${key} is ${JSON.stringify(input[key])}; allowed: ${schema?.description ?? 'nothing'}`);
    }
  }
  if (problems.length > 0) throw new BadQuery(problems.join('\n'));
  return parsed.data!;
}
