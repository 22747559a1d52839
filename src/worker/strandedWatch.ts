import * as E from 'fp-ts/Either';
import type { OrbitClient } from '../runtime/orbitClient';
import { readStrandedRuns } from './readStrandedRuns';
import type { StrandedRuns } from './strandedRuns';
import type { WorkerEvent } from './workerEvent';

/** At most one look at the stranded runs this often, however many runs are queued meanwhile. */
export const STRANDED_CHECK_MS = 2000;

/**
 * Tells the worker's log (and metrics) which queued runs no live worker can execute: looked at when
 * the worker starts and a little after runs are queued (one query per STRANDED_CHECK_MS at most,
 * none while nothing is queued: no polling), reported only when the set changes.
 */
export class StrandedWatch {
  private timer: NodeJS.Timeout | undefined;
  private last = '[]';
  private looking: Promise<void> | undefined;

  constructor(
    private readonly client: OrbitClient,
    private readonly emit: (e: WorkerEvent) => void,
  ) {}

  /** Looks now (at start), without holding the caller up. */
  now(): void {
    if (this.looking === undefined) this.looking = this.check().finally(() => (this.looking = undefined));
  }

  private async check(): Promise<void> {
    const r = await readStrandedRuns(this.client.db);
    // Unreadable now: the next queued run looks again (claims report database failures).
    if (E.isLeft(r)) return;
    const key = JSON.stringify(r.right.map((s: StrandedRuns) => [s.pipelineId, s.definitionHash, s.runs]));
    if (key === this.last) return;
    this.last = key;
    this.emit({ kind: 'stranded', stranded: r.right });
  }

  /** A run was queued: look a little later (many queued at once cost one look). */
  soon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.now();
    }, STRANDED_CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.looking;
  }
}
