/** Which runs `exportRuns` reads, in a module of types only (see auditReport.ts). */
export interface ExportSelection {
  /** These runs, in this order. Without: every run (in id order). */
  readonly runIds?: readonly string[];
  /** With every run: only runs created at or after this time (ISO-8601). */
  readonly since?: string;
}
