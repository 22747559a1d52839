/**
 * The small version of `npm run chaos`: every scenario with small numbers, on a throwaway cluster
 * of its own (the harness starts and deletes it). Needs `npm run build` (it spawns dist/cli/main.js).
 */
import { formatReport, runChaos } from '../../scripts/chaos/main';

// R10 builds a primary and a replica of its own (initdb, pg_basebackup): more time than the others.
jest.setTimeout(420_000);

it('every chaos scenario holds its invariants (small numbers)', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 1);
  const report = await runChaos({ seed, small: true });
  if (!report.ok) throw new Error(formatReport(report));
  expect(report.results.map((r) => r.id)).toEqual([
    'R1',
    'R3',
    'R9',
    'R7',
    'R8',
    'R2',
    'R5',
    'R4',
    'R6',
    'R12',
    'R11',
    'R14',
    'R10',
    'R13',
  ]);
});
