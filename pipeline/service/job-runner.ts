/**
 * Runs the service's jobs (a file, a scheduled retrain, retention) one at a time, so a retrain
 * never interleaves with a file being scored, and lets shutdown wait for the one running.
 */
export class JobRunner {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `job` behind the running one; the returned promise settles with the job. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has settled (it never rejects). */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }
}
