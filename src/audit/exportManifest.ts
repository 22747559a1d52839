import * as t from 'io-ts';
import type { ExportedEvent } from './exportFormat';

/** One run of an export as its writer saw it: how many events, up to which seq, ending in which hash. */
export const ManifestRun = t.type({ runId: t.string, events: t.number, lastSeq: t.number, headHash: t.string });
export type ManifestRun = t.TypeOf<typeof ManifestRun>;

/**
 * The last line of an export: what it holds, so that a run removed from the file, a run cut short
 * or a file cut short (no manifest at all) is found by `verify --file` and refused by `import`.
 * It guards against accidents and careless edits; against a forger it is the checkpoint that counts.
 */
export const ExportManifest = t.type({
  orbitExportManifest: t.literal(1),
  /** Every run (`--all`, with `since` when given) or only the runs named. */
  selection: t.type({ all: t.boolean, since: t.union([t.string, t.null]) }),
  runs: t.array(ManifestRun),
  events: t.number,
});
export type ExportManifest = t.TypeOf<typeof ExportManifest>;

/** Builds the manifest while the events stream past (memory: one entry per run). */
export class ManifestBuilder {
  private readonly runs: ManifestRun[] = [];
  private events = 0;

  constructor(private readonly selection: ExportManifest['selection']) {}

  add(batch: readonly ExportedEvent[]): void {
    for (const e of batch) {
      this.events += 1;
      const last = this.runs[this.runs.length - 1];
      if (last !== undefined && last.runId === e.runId) {
        this.runs[this.runs.length - 1] = { ...last, events: last.events + 1, lastSeq: e.seq, headHash: e.hash };
      } else this.runs.push({ runId: e.runId, events: 1, lastSeq: e.seq, headHash: e.hash });
    }
  }

  /** Runs seen so far. */
  get runCount(): number {
    return this.runs.length;
  }

  manifest(): ExportManifest {
    return { orbitExportManifest: 1, selection: this.selection, runs: this.runs, events: this.events };
  }
}
