import { once } from 'node:events';
import { FINDING_TYPES } from '../../pipeline/findings/registry.js';
import type { Config } from '../../pipeline/service/config.js';
import { createLogger } from '../../pipeline/service/logger.js';
import { startDashboard, type RunningDashboard } from '../../pipeline/serve/start-dashboard.js';
import type { Logger } from '../../pipeline/service/logger.js';

/** `zeek-anomaly serve`: the dashboard alone, over a database the service writes. SIGINT or SIGTERM stops it, exit 0. */
export async function serveCommand(config: Readonly<Config>, options: { logFormat: 'json' | 'text' }): Promise<number> {
  const log = createLogger({ format: options.logFormat });
  const dashboard = await dashboardFor(config, log);
  process.stderr.write(`dashboard: ${dashboard.url} (Ctrl+C stops it)\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await dashboard.stop();
  return 0;
}

/** The dashboard as the config says: its address, token, database, log directory and allow-list. */
export function dashboardFor(config: Readonly<Config>, log: Logger): Promise<RunningDashboard> {
  return startDashboard({
    db: config.db,
    host: config.serve.host,
    port: config.serve.port,
    token: config.serve.token,
    logDir: config.logDir,
    allow: config.findings.allow,
    findingTypes: FINDING_TYPES,
    log,
  });
}
