/**
 * Progress for long commands: a bar redrawn in place on a terminal, plain lines otherwise (a
 * log file or CI must not fill with carriage returns).
 */
export interface Progress {
  /** Redraws the bar (terminal) or does nothing (log). */
  update(done: number, total: number, label: string): void;
  /** A line that stays: printed under the bar on a terminal, as is in a log. */
  line(text: string): void;
  done(): void;
}

const BAR_WIDTH = 28;

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    return {
      update: () => {},
      line: (text) => stream.write(`${text}\n`),
      done: () => {},
    };
  }
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    update(done, total, label) {
      const share = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(share * BAR_WIDTH);
      clear();
      stream.write(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${label}`.slice(0, (stream.columns || 100) - 1));
      drawn = true;
    },
    line(text) {
      clear();
      stream.write(`${text}\n`);
    },
    done() {
      clear();
    },
  };
}
