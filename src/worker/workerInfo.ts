/** What `listWorkers` (and `orbit workers`) says of each process. Types only (see src/api/listRuns.ts). */
export interface WorkerInfo {
  /** The process's worker id (`host:pid:random`), as the journal's `writer` names it. */
  readonly id: string;
  /** `worker`: an `orbit worker` / `startWorker`, listed idle or busy; `process`: anything else holding a lease (`orbit run`). */
  readonly kind: 'worker' | 'process';
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Date;
  /** Its last heartbeat (registration or lease renewal), database clock. */
  readonly lastHeartbeatAt: Date;
  /**
   * Whether it is alive now: its registration or its lease is still valid (database clock), and its
   * process is not provably gone.
   */
  readonly live: boolean;
  /**
   * Its process is provably gone: it ran on this machine and no process with its pid and start
   * time exists (killed with kill -9, say). Its lease may still look valid; its runs are
   * interrupted at once. Always false for processes on other machines (their lease decides).
   */
  readonly processGone: boolean;
  /** Until when it is presumed alive without another heartbeat (the later of registration and lease). */
  readonly aliveUntil: Date | null;
  /** Its lease on the runs it executes ends then unless renewed; null while it holds none (idle). */
  readonly leaseUntil: Date | null;
  /** Runs it may execute at once (workers only). */
  readonly concurrency: number | null;
  /** The pipelines it can execute, with the definition hash of each (workers only; empty for a process). */
  readonly pipelines: readonly { readonly name: string; readonly definitionHash: string }[];
  /** The runs it is executing now (covered by its lease). Empty: idle. */
  readonly running: readonly string[];
}

export interface ListWorkersOptions {
  /** Only the live ones (default false: processes whose lease or registration expired are listed too). */
  readonly liveOnly?: boolean;
}
