import { Hono, type Context } from 'hono';
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
    }),
  );
  app.use(options.token === '' ? requireLoopbackHostHeader() : requireToken(options.token));

  app.get('/', async (c) => {
    const overview = await overviewData(deps, searchOf(c));
    return page(c, OverviewPage({ overview, liveSeconds: deps.liveSeconds }));
  });
  app.get('/api/overview', async (c) => c.json(liveUpdate(await overviewData(deps, searchOf(c)))));
  app.get('/findings', (c) => page(c, findingsPage(deps, searchOf(c))));
  app.get('/findings/:id', (c) => {
    const id = /^\d{1,15}$/.test(c.req.param('id')) ? Number(c.req.param('id')) : null;
    if (id === null) throw new BadQuery(`finding id is ${JSON.stringify(c.req.param('id'))}; allowed: a whole number, as the findings list links it`);
    const found = findingPage(deps, id, searchOf(c));
    return found === null ? notFound(c, `There is no finding ${id}: it may have gone with the retention job.`) : page(c, found);
  });
  // The host box in the header: a form can only send a query string.
  app.get('/hosts', (c) => {
    const { host } = parseQuery(searchOf(c), { host: hostParam });
    if (host === undefined) throw new BadQuery('host is missing; allowed: an IPv4 or IPv6 address (10.1.0.5, 2001:db8::1)');
    return c.redirect(`/hosts/${encodeURIComponent(host)}`, 303);
  });
  app.get('/hosts/:host', (c) => {
    const { host } = parseQuery(new URLSearchParams({ host: c.req.param('host') }), { host: hostParam });
    return page(c, hostPage(deps, host!, searchOf(c)));
  });
  app.get('/anomalies', (c) => page(c, anomaliesPage(deps, searchOf(c))));
  app.get('/anomalies.csv', (c) => {
    const body = anomaliesCsv(deps, searchOf(c));
    return c.body(body, 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="anomalies.csv"' });
  });
  app.get('/files', (c) => page(c, filesPage(deps, searchOf(c))));
  app.get('/models', (c) => page(c, modelsPage(deps, searchOf(c))));
  app.get('/assets/:name', (c) => serveAsset(c, assets, c.req.param('name')));

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
  return c.html(`<!doctype html>${String(await body)}`, status);
}

function notFound(c: Context, message: string): Promise<Response> {
  return page(c, ErrorPage({ status: 404, message }), 404);
}
