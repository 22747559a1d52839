import type { RunEvent } from '../events/runEvents';

/**
 * Named fault points for crash tests (DBOS does the same): with
 * `ORBIT_FAULT_AFTER=<event type>[:<step name>]` set (read once by connect(), as the client's
 * `faultAfter`), the process kills itself with SIGKILL right after committing an append that
 * contains that event, e.g. `step.succeeded:transform` or `step.retry_scheduled:fetch`. Unset
 * (always, outside tests), this is one comparison. Two more points live where they happen:
 * `archive.batch` (orbit archive) and `schedule.tick` (a worker that has just inserted a schedule
 * tick's row, before its run is queued in the same transaction: src/worker/scheduler.ts).
 */
export const faultAfterAppend = (armed: string | undefined, events: readonly RunEvent[]): void => {
  if (!armed) return;
  const [type, step] = armed.split(':');
  const hit = events.some((e) => e.type === type && (step === undefined || ('stepName' in e && e.stepName === step)));
  if (hit) process.kill(process.pid, 'SIGKILL');
};
