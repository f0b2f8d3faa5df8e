import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { MIN_TOKEN_LENGTH } from './serve-settings.js';

// Who may read the dashboard. It shows network data, so by default only this machine may: it
// listens on loopback, and an operator elsewhere comes in through an SSH tunnel. Listening on any
// other address needs a token, asked of every request (assets included).

/** Why the dashboard will not listen where it was told to, or null when it may. */
export function bindRefusal(host: string, token: string): string | null {
  if (token !== '' && token.length < MIN_TOKEN_LENGTH) return `the dashboard token is ${token.length} characters; it needs at least ${MIN_TOKEN_LENGTH}`;
  if (token === '' && !isLoopback(host)) {
    return (
      `refusing to serve the dashboard on ${host} without a token: anyone who can reach that address could read the findings. ` +
      `Set ZEEK_ANOMALY_SERVE_TOKEN (or serve.token, ${MIN_TOKEN_LENGTH}+ characters), or listen on 127.0.0.1 and open it through an SSH tunnel`
    );
  }
  return null;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const version = isIP(host);
  if (version === 4) return host.startsWith('127.');
  if (version === 6) return host === '::1' || host.toLowerCase() === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * With a token: every request must carry it, as `Authorization: Bearer <token>` (scripts) or as
 * the password of HTTP basic auth, any user name (a browser asks for it). A missing or wrong one
 * gets a 401 that says how to give it, and nothing else.
 */
export function requireToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    // What a token guards must not stay in a browser's or a proxy's cache, where it needs no token.
    c.header('Cache-Control', 'no-store');
    const given = presentedToken(c.req.header('authorization'));
    if (given !== null && timingSafeEqual(digest(given), expected)) {
      await next();
      c.header('Cache-Control', 'no-store');
      return;
    }
    c.header('WWW-Authenticate', 'Basic realm="zeek-anomaly", charset="UTF-8"');
    return c.text(
      given === null
        ? 'this dashboard needs its token: as a bearer token (Authorization: Bearer …) or as the password of basic auth (any user name)\n'
        : 'wrong token\n',
      401,
    );
  };
}

/**
 * Without a token the dashboard answers only to the names of this machine's loopback: a web page
 * elsewhere that points its own host name at 127.0.0.1 (DNS rebinding) then cannot read it through
 * the operator's browser.
 */
export function requireLoopbackHostHeader(): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('host') ?? '';
    const name = hostName(header);
    if (name !== null && isLoopback(name)) {
      await next();
      return;
    }
    return c.text(`the Host header ${JSON.stringify(header)} is not allowed: without a token the dashboard answers only to localhost, 127.0.0.1 and [::1]\n`, 403);
  };
}

// ---------------------------------------------------------------------------------------------

/** The token in an Authorization header, bearer or basic (the password), or null. */
function presentedToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const [scheme, value] = header.split(/\s+/, 2) as [string, string | undefined];
  if (value === undefined) return null;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.slice(colon + 1);
  }
  return null;
}

// Compared as digests, so the comparison takes the same time whatever the lengths.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** `127.0.0.1:8080` → `127.0.0.1`, `[::1]:8080` → `::1`, `localhost` → `localhost`. */
function hostName(header: string): string | null {
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end < 0 ? null : header.slice(1, end);
  }
  const colon = header.indexOf(':');
  return colon < 0 ? header : header.slice(0, colon);
}
