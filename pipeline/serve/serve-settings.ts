import { z } from 'zod';
import { wholeFrom } from '../settings/schema-words.js';

// The config's `serve` section, owned by the dashboard: where it listens and the token it asks for.
// The service puts it in the whole config; the dashboard is handed the resolved values.

/** A dashboard token shorter than this is refused: it guards network data, and guessing must not pay. */
export const MIN_TOKEN_LENGTH = 16;

export const SERVE_SCHEMA = z.strictObject({
  host: z.string().min(1).describe('an address to listen on, such as "127.0.0.1" or "0.0.0.0"'),
  port: wholeFrom(0, 65_535),
  token: z
    .string()
    .refine((value) => value === '' || value.length >= MIN_TOKEN_LENGTH, { error: `is shorter than ${MIN_TOKEN_LENGTH} characters` })
    .describe(`a token of at least ${MIN_TOKEN_LENGTH} characters, or "" for none (allowed only on a loopback address)`),
});

export type ServeSettings = z.infer<typeof SERVE_SCHEMA>;

export const DEFAULT_SERVE: Readonly<ServeSettings> = { host: '127.0.0.1', port: 8080, token: '' };
