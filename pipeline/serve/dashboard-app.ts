import { Hono, type Context, type Handler } from 'hono';
import type { BlankEnv } from 'hono/types';
import { secureHeaders } from 'hono/secure-headers';
import type { HtmlEscapedString } from 'hono/utils/html';
import { requireLoopbackHostHeader, requireToken } from './access.js';
import { loadAssets, serveAsset } from './assets.js';
import type { DashboardDeps } from './dashboard-deps.js';
import { anomaliesCsv, anomaliesPage } from './pages/anomalies.js';
import { ErrorPage } from './pages/error.js';
import { findingPage } from './pages/finding.js';
import { findingsPage } from './pages/findings.js';
import { filesPage } from './pages/files.js';
import { hostPage } from './pages/host.js';
import { modelsPage } from './pages/models.js';
import { liveUpdate, overviewData, OverviewPage } from './pages/overview.js';
import { BadQuery, hostParam, parseQuery } from './query-params.js';

export interface DashboardAppOptions {
  /** '' for none: then only requests addressed to loopback names are answered. */
  token: string;
  /** A request that failed through no fault of its own (a database error): for the service's log. */
  onError: (error: Error, path: string) => void;
}

/**
 * The dashboard as a Hono app over `deps`: server-rendered pages (each readable without script),
 * the overview's live data as JSON, a CSV download, and the few assets the pages load.
 * Only GET: nothing here changes the database.
 */
export function createDashboardApp(deps: DashboardDeps, options: DashboardAppOptions): Hono {
  const assets = loadAssets();
  const app = new Hono();

  app.use(
    secureHeaders({
      // Everything from this server and nothing inline: no script, style or frame from anywhere else.
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      // The dashboard speaks plain HTTP (behind a TLS proxy, the proxy sends HSTS): a browser ignores
      // the header over HTTP, and sending it says the server has TLS it does not have.
      strictTransportSecurity: false,
    }),
  );
  app.use(options.token === '' ? requireLoopbackHostHeader() : requireToken(options.token));

  // Every page is read-only: another method on a page's path is 405 with the methods it takes, not 404.
  const get = <P extends string>(path: P, handler: Handler<BlankEnv, P>): void => {
    app.get(path, handler);
    app.all(path, (c) => {
      c.header('Allow', 'GET, HEAD');
      return c.text(`${c.req.method} is not allowed on ${c.req.path}: it takes GET and HEAD\n`, 405);
    });
  };

  get('/', async (c) => {
    const overview = await overviewData(deps, searchOf(c));
    return page(c, OverviewPage({ overview, liveSeconds: deps.liveSeconds }));
  });
  get('/api/overview', async (c) => c.json(liveUpdate(await overviewData(deps, searchOf(c)))));
  get('/findings', (c) => page(c, findingsPage(deps, searchOf(c))));
  get('/findings/:id', (c) => {
    const id = /^\d{1,15}$/.test(c.req.param('id')) ? Number(c.req.param('id')) : null;
    if (id === null) throw new BadQuery(`finding id is ${JSON.stringify(c.req.param('id'))}; allowed: a whole number, as the findings list links it`);
    const found = findingPage(deps, id, searchOf(c));
    return found === null ? notFound(c, `There is no finding ${id}: it may have gone with the retention job.`) : page(c, found);
  });
  // The host box in the header: a form can only send a query string.
  get('/hosts', (c) => {
    const { host } = parseQuery(searchOf(c), { host: hostParam });
    if (host === undefined) throw new BadQuery('host is missing; allowed: an IPv4 or IPv6 address (10.1.0.5, 2001:db8::1)');
    return c.redirect(`/hosts/${encodeURIComponent(host)}`, 303);
  });
  get('/hosts/:host', (c) => {
    const { host } = parseQuery(new URLSearchParams({ host: c.req.param('host') }), { host: hostParam });
    return page(c, hostPage(deps, host!, searchOf(c)));
  });
  get('/anomalies', (c) => page(c, anomaliesPage(deps, searchOf(c))));
  get('/anomalies.csv', (c) => {
    const body = anomaliesCsv(deps, searchOf(c));
    return c.body(body, 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="anomalies.csv"' });
  });
  get('/files', (c) => page(c, filesPage(deps, searchOf(c))));
  get('/models', (c) => page(c, modelsPage(deps, searchOf(c))));
  get('/assets/:name', (c) => serveAsset(c, assets, c.req.param('name')));

  app.notFound((c) => notFound(c, `There is no page ${c.req.path}.`));
  app.onError((error, c) => {
    if (error instanceof BadQuery) {
      return c.req.path.startsWith('/api/') || c.req.path.endsWith('.csv') ? c.json({ error: error.message }, 400) : page(c, ErrorPage({ status: 400, message: error.message }), 400);
    }
    options.onError(error, c.req.path);
    const message = 'The dashboard could not read this from the database; the service log has the details.';
    return c.req.path.startsWith('/api/') ? c.json({ error: message }, 500) : page(c, ErrorPage({ status: 500, message }), 500);
  });
  return app;
}

// ---------------------------------------------------------------------------------------------

function searchOf(c: Context): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

async function page(c: Context, body: HtmlEscapedString | Promise<HtmlEscapedString>, status: 200 | 400 | 404 | 500 = 200): Promise<Response> {
  return c.html(`<!doctype html>${markBidiControls(String(await body))}`, status);
}

// Unicode's bidirectional controls (U+202A–U+202E, U+2066–U+2069, the marks U+200E, U+200F and
// U+061C) in a value from the network would reorder what is shown around them: a host name or URI
// could read backwards. None of the pages' own text uses them, so each is shown as its code point
// wherever it stands (text or attribute; the replacement is plain ASCII, so it cannot make markup).
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function markBidiControls(html: string): string {
  return html.replace(BIDI_CONTROLS, (char) => `[U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

function notFound(c: Context, message: string): Promise<Response> {
  return page(c, ErrorPage({ status: 404, message }), 404);
}
