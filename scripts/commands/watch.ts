import { openDatabase } from '../../db/open-database.js';
import type { Config } from '../../pipeline/service/config.js';
import { createLogger } from '../../pipeline/service/logger.js';
import { runService } from '../../pipeline/service/service.js';
import { bindRefusal } from '../../pipeline/serve/access.js';
import { dashboardFor } from './serve.js';

/** `zeek-anomaly watch` (`npm start`): the service, and with `serve` the dashboard beside it. SIGINT or SIGTERM stops it cleanly, exit 0. */
export async function watchCommand(config: Readonly<Config>, options: { once: boolean; logFormat: 'json' | 'text'; serve: boolean }): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const log = createLogger({ format: options.logFormat });
  let dashboard: Awaited<ReturnType<typeof dashboardFor>> | null = null;
  try {
    if (options.serve) {
      // Refused before anything is made: a dashboard that will not start must leave no database behind.
      const refusal = bindRefusal(config.serve.host, config.serve.token);
      if (refusal !== null) throw new Error(refusal);
      // The dashboard reads the database read-only, so it must exist, at the current schema, before it opens:
      // on a first start the service has not made it yet.
      openDatabase(config.db).close();
      dashboard = await dashboardFor(config, log);
    }
    await runService({ config, log, signal: controller.signal, once: options.once });
  } finally {
    await dashboard?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
