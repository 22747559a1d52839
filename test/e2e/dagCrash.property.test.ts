import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';
import { createTestClient, type TestClient } from '../support/testClient';
import { eventsOf } from '../support/recoveryHelpers';

/*
 * Issue 18, Done when: random DAGs, killed (SIGKILL, a real process) right after a random append,
 * resumed by a new process that may be killed again, again and again: the run ends with every
 * step succeeded exactly once, no step ever started before all of its dependencies succeeded,
 * attempts counting on across the crashes, a hash chain that verifies and projections that agree.
 * Needs `npm run build` (the processes run dist/).
 */
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'dagCrash.js');
let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'dagcrash' });
});
const children = new Set<ReturnType<typeof spawn>>();
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await tc.dispose();
});

interface Dag {
  readonly steps: readonly string[];
  readonly deps: Readonly<Record<string, readonly string[]>>;
}

/** Random DAGs of 2–6 steps: each step depends on a random subset of the steps before it in a topological order. */
const dag: fc.Arbitrary<Dag> = fc
  .integer({ min: 2, max: 6 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .map(([n, m, order]) => {
    const name = (i: number) => `s${i}`;
    const deps: Record<string, string[]> = {};
    for (let i = 0; i < n; i++)
      deps[name(i)] = Array.from({ length: i }, (_, j) => j)
        .filter((j) => m[i]?.[j])
        .map(name);
    return { steps: order.map(name), deps };
  });

/** Where a process dies: right after the append carrying this event (of this step), or never. */
const faultPoints = (d: Dag): string[] => [
  'run.claimed',
  'run.resumed',
  ...d.steps.flatMap((s) => [`step.started:${s}`, `step.succeeded:${s}`]),
];

const runProcess = (d: Dag, runId: string, mode: 'run' | 'resume', fault: string | undefined) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: {
        ...process.env,
        DAG_SPEC: JSON.stringify(d),
        DAG_RUN_ID: runId,
        DAG_MODE: mode,
        DAG_DATABASE_URL: tc.url,
        DAG_SCHEMA: tc.schema,
        ORBIT_FAULT_AFTER: fault ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    });
  });

describe('random DAGs killed at random appends, resumed again and again', () => {
  it('every step succeeds exactly once, after its dependencies, and the chain verifies', async () => {
    let n = 0;
    let kills = 0;
    await fc.assert(
      fc.asyncProperty(
        // The first process always dies: its fault point is one a first run reaches (not
        // run.resumed), so every case crashes at least once and the kill count below is exact.
        dag.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.constantFrom(...faultPoints(d).filter((p) => p !== 'run.resumed')),
            fc.array(fc.constantFrom(...faultPoints(d)), { maxLength: 2 }),
          ),
        ),
        async ([d, first, rest]) => {
          const faults = [first, ...rest];
          const runId = `dagcrash-${process.pid}-${++n}-${randomBytes(3).toString('hex')}`;
          // Each process dies at its fault point if the run reaches it; the last one has none.
          const plan = [...faults, undefined];
          const outcomes: string[] = [];
          for (let i = 0; i < plan.length; i++) {
            // Killed right after the append that ended the run: nothing is left to resume.
            const sofar = await eventsOf(tc.client.db, runId);
            if (i > 0 && sofar[sofar.length - 1]?.event.type === 'run.succeeded') break;
            const r = await runProcess(d, runId, i === 0 ? 'run' : 'resume', plan[i]);
            outcomes.push(r.signal ?? `${r.code}: ${r.out.trim()}`);
            if (r.signal === null) {
              expect({ code: r.code, out: r.out.trim() }).toEqual({ code: 0, out: 'success' });
              break;
            }
            expect(r.signal).toBe('SIGKILL');
            kills++;
          }
          const events = (await eventsOf(tc.client.db, runId)).map((e) => e.event);
          const succeededAt = new Map<string, number>();
          const started: Record<string, number[]> = {};
          events.forEach((e, seq) => {
            if (e.type === 'step.succeeded') {
              expect(succeededAt.has(e.stepName)).toBe(false);
              succeededAt.set(e.stepName, seq);
            }
            if (e.type === 'step.started') {
              (started[e.stepName] ??= []).push(e.attempt);
              for (const dep of d.deps[e.stepName] ?? []) {
                const at = succeededAt.get(dep);
                if (at === undefined) throw new Error(`${e.stepName} started before ${dep} succeeded (${outcomes.join(', ')})`);
              }
            }
          });
          expect([...succeededAt.keys()].sort()).toEqual([...d.steps].sort());
          expect(events[events.length - 1]?.type).toBe('run.succeeded');
          // Attempts count on across crashes: 1, 2, 3 … for every step.
          for (const attempts of Object.values(started)) expect(attempts).toEqual(attempts.map((_, i) => i + 1));
          const breaks = await verifyJournal(tc.client.db, runId);
          expect(E.isRight(breaks) && breaks.right).toEqual([]);
          const projections = await checkProjections(tc.client.db, [runId]);
          expect(E.isRight(projections) && projections.right.differences).toEqual([]);
        },
      ),
      // A process takes 0.5–2.5 s (start, connect, wait for the killed one's run to turn stale).
      { numRuns: 5 },
    );
    expect(kills).toBeGreaterThanOrEqual(5);
  }, 240_000);
});
