import type { Config } from '../../pipeline/service/config.js';
import { createLogger } from '../../pipeline/service/logger.js';
import { runService } from '../../pipeline/service/service.js';

/** `zeek-anomaly watch` (`npm start`): the service. SIGINT or SIGTERM stops it cleanly, exit 0. */
export async function watchCommand(config: Readonly<Config>, options: { once: boolean; logFormat: 'json' | 'text' }): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runService({ config, log: createLogger({ format: options.logFormat }), signal: controller.signal, once: options.once });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
