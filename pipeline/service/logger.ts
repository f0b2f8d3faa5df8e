/** Structured logs: one JSON object per line for services and log shippers, or readable lines on a terminal. */
export interface Logger {
  info(event: string, fields: Record<string, unknown>): void;
  error(event: string, fields: Record<string, unknown>): void;
}

export function createLogger(options: { format: 'json' | 'text'; stream?: NodeJS.WritableStream }): Logger {
  const stream = options.stream ?? process.stdout;
  const write = (level: 'info' | 'error', event: string, fields: Record<string, unknown>): void => {
    const time = new Date().toISOString();
    if (options.format === 'json') {
      stream.write(`${JSON.stringify({ time, level, event, ...fields })}\n`);
      return;
    }
    const details = Object.entries(fields)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    stream.write(`${time} ${level === 'error' ? 'ERROR ' : ''}${event} ${details}\n`);
  };
  return { info: (event, fields) => write('info', event, fields), error: (event, fields) => write('error', event, fields) };
}
