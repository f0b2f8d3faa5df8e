import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import { DASHBOARD_CSS } from './dashboard-css.js';

// The files the pages load, all from this package: ECharts from its own npm package, the
// dashboard's script as tsc built it, the stylesheet. Nothing is fetched from anywhere else, so
// the dashboard works on a sensor with no way out, and the Content-Security-Policy can say 'self'.

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

/** The assets by name, read (and gzipped) once. Throws, naming the file, when one is missing: the package is broken. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const require = createRequire(import.meta.url);
  const files: [string, string, Buffer][] = [
    ['echarts.min.js', 'text/javascript; charset=utf-8', read(require.resolve('echarts/dist/echarts.min.js'))],
    ['dashboard.js', 'text/javascript; charset=utf-8', read(fileURLToPath(new URL('./client/dashboard.js', import.meta.url)))],
    ['dashboard.css', 'text/css; charset=utf-8', Buffer.from(DASHBOARD_CSS, 'utf8')],
  ];
  return new Map(
    files.map(([name, type, body]) => [name, { type, body, gzipped: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }]),
  );
}

/** Answers GET /assets/:name from `assets`: 404 for any other name, 304 when the browser's copy is current. */
export function serveAsset(c: Context, assets: ReadonlyMap<string, Asset>, name: string): Response {
  const asset = assets.get(name);
  if (asset === undefined) return c.text(`no asset ${JSON.stringify(name)}; there are ${[...assets.keys()].join(', ')}\n`, 404);
  // Revalidated on every load (a 304 costs one round trip on loopback), so an upgrade is seen at once.
  c.header('Cache-Control', 'no-cache');
  c.header('ETag', asset.etag);
  c.header('Vary', 'Accept-Encoding');
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
  c.header('Content-Type', asset.type);
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(asset.gzipped));
  }
  return c.body(new Uint8Array(asset.body));
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`the dashboard's asset ${file} cannot be read (${(error as Error).message}): reinstall zeek-anomaly, or run npm run build`, { cause: error });
  }
}
