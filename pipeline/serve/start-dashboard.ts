import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { openDatabase, storeName } from '../../db/open-database.js';
import { AllowList, type AllowEntry } from '../findings/allow-list.js';
import type { Logger } from '../service/logger.js';
import { bindRefusal, isLoopback } from './access.js';
import { ArchiveLagReader } from './archive-lag.js';
import { createDashboardApp } from './dashboard-app.js';

export interface DashboardOptions {
  /** The SQLite file, opened read-only. */
  db: string;
  host: string;
  /** 0: any free port (the tests). */
  port: number;
  /** '' for none, allowed only on a loopback address. */
  token: string;
  /** The log directory, for how far the scorer is behind it; null to leave that out. */
  logDir: string | null;
  allow: readonly AllowEntry[];
  /** The finding types the list offers to filter by (`FINDING_TYPES`). */
  findingTypes: readonly string[];
  log: Logger;
  /** How often the overview refreshes itself; default 10 s. */
  liveSeconds?: number;
}

export interface RunningDashboard {
  /** Where it answers, e.g. http://127.0.0.1:8080/. */
  url: string;
  stop: () => Promise<void>;
}

/**
 * Opens the database read-only and serves the dashboard on `host:port`. Refuses (throws, saying
 * why and what to do) to listen beyond loopback without a token, and when the port is taken.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const refusal = bindRefusal(options.host, options.token);
  if (refusal !== null) throw new Error(refusal);
  const db = openDatabase(options.db, { readonly: true });
  try {
    const app = createDashboardApp(
      {
        db,
        allowList: new AllowList(options.allow),
        findingTypes: options.findingTypes,
        lag: options.logDir === null ? null : new ArchiveLagReader(db, options.logDir),
        liveSeconds: options.liveSeconds ?? 10,
      },
      { token: options.token, onError: (error, path) => options.log.error('dashboard', { path, error: error.stack ?? error.message }) },
    );
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    await listen(server, options.port, options.host);
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${shownHost}:${address.port}/`;
    options.log.info('dashboard', {
      url,
      db: storeName(options.db),
      access: options.token === '' ? 'loopback only, no token' : `token required (bearer, or basic auth password)${isLoopback(options.host) ? '' : `; listening on ${options.host}`}`,
    });
    return {
      url,
      stop: async () => {
        // Open keep-alive connections (a browser's) would hold close() up until they time out.
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const why = error.code === 'EADDRINUSE' ? 'the port is in use (another dashboard?); choose another with --port' : error.code === 'EADDRNOTAVAIL' ? 'no interface of this machine has that address' : error.message;
      reject(new Error(`the dashboard cannot listen on ${host}:${port}: ${why}`, { cause: error }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
