import * as E from 'fp-ts/Either';
import { readClaimLatency } from '../queries/readClaimLatency';
import type { OrbitClient } from '../runtime/orbitClient';
import type { WorkerEvent } from './workerEvent';

/**
 * Measures, after a claim of a queued or released run committed, how long the run had waited
 * (journal timestamps): one small query per claim, reported as a `claim-latency` event.
 */
export class ClaimMeter {
  private readonly measuring = new Set<Promise<void>>();

  constructor(
    private readonly client: OrbitClient,
    private readonly emit: (e: WorkerEvent) => void,
  ) {}

  measure(runId: string): void {
    const measured = readClaimLatency(this.client.db, runId, this.client.workerId).then((r) => {
      // A failed measurement costs one sample, never the run.
      if (E.isRight(r) && r.right !== null) this.emit({ kind: 'claim-latency', runId, ...r.right });
    });
    this.measuring.add(measured);
    void measured.finally(() => this.measuring.delete(measured));
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.measuring]);
  }
}
