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
 * every item of a map step succeeded exactly once per idempotency key (and only inside its step),
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
  /** The map steps and how many items each has. */
  readonly map: Readonly<Record<string, number>>;
}

/**
 * Random DAGs of 2–6 steps: each step depends on a random subset of the steps before it in a
 * topological order; some are map steps of 1–5 items.
 */
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
      // Per step: 0 a plain step, else a map step of that many items (about one step in three).
      fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 5 })), { minLength: n, maxLength: n }),
    ),
  )
  .map(([n, m, order, items]) => {
    const name = (i: number) => `s${i}`;
    const deps: Record<string, string[]> = {};
    for (let i = 0; i < n; i++)
      deps[name(i)] = Array.from({ length: i }, (_, j) => j)
        .filter((j) => m[i]?.[j])
        .map(name);
    const map: Record<string, number> = {};
    items.forEach((k, i) => {
      if (k > 0) map[name(i)] = k;
    });
    return { steps: order.map(name), deps, map };
  });

/** Where a process dies: right after the append carrying this event (of this step), or never. */
const faultPoints = (d: Dag): string[] => [
  'run.claimed',
  'run.resumed',
  ...d.steps.flatMap((s) => [`step.started:${s}`, `step.succeeded:${s}`]),
  // A map step's first appends of items starting and succeeding: the step half done.
  ...Object.keys(d.map).flatMap((s) => [`item.started:${s}`, `item.succeeded:${s}`]),
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
    let mapSteps = 0;
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
          mapSteps += Object.keys(d.map).length;
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
          const stepStarted = new Set<string>();
          const itemSucceeded = new Map<string, number>();
          const itemAttempts: Record<string, number[]> = {};
          events.forEach((e, seq) => {
            if (e.type === 'item.started' || e.type === 'item.succeeded') {
              // An item starts only inside its started map step (itself after its dependencies), before the step succeeded.
              const key = `${runId}:${e.stepName}:${e.payload.index}`;
              expect({ key, stepStarted: stepStarted.has(e.stepName), stepDone: succeededAt.has(e.stepName) }).toEqual({
                key,
                stepStarted: true,
                stepDone: false,
              });
              if (e.type === 'item.started') (itemAttempts[key] ??= []).push(e.attempt);
              else {
                if (itemSucceeded.has(key)) throw new Error(`item ${key} succeeded twice (${outcomes.join(', ')})`);
                itemSucceeded.set(key, seq);
              }
            }
            if (e.type === 'step.succeeded') {
              expect(succeededAt.has(e.stepName)).toBe(false);
              succeededAt.set(e.stepName, seq);
            }
            if (e.type === 'step.started') {
              stepStarted.add(e.stepName);
              (started[e.stepName] ??= []).push(e.attempt);
              for (const dep of d.deps[e.stepName] ?? []) {
                const at = succeededAt.get(dep);
                if (at === undefined) throw new Error(`${e.stepName} started before ${dep} succeeded (${outcomes.join(', ')})`);
              }
            }
          });
          expect([...succeededAt.keys()].sort()).toEqual([...d.steps].sort());
          expect(events[events.length - 1]?.type).toBe('run.succeeded');
          // Attempts count on across crashes: 1, 2, 3 … for every step and every item.
          for (const attempts of Object.values(started)) expect(attempts).toEqual(attempts.map((_, i) => i + 1));
          for (const attempts of Object.values(itemAttempts)) expect(attempts).toEqual(attempts.map((_, i) => i + 1));
          // Every item of every map step succeeded exactly once (by its idempotency key), and the
          // step's data is their results in order.
          const keys = Object.entries(d.map).flatMap(([s, k]) => Array.from({ length: k }, (_, i) => `${runId}:${s}:${i}`));
          expect([...itemSucceeded.keys()].sort()).toEqual(keys.sort());
          for (const [s, k] of Object.entries(d.map)) {
            const done = events.find((e) => e.type === 'step.succeeded' && e.stepName === s);
            const items = done?.type === 'step.succeeded' ? (done.payload.result as { item: number }[]) : [];
            expect(items.map((x) => x.item)).toEqual(Array.from({ length: k }, (_, i) => i));
          }
          const breaks = await verifyJournal(tc.client.db, runId);
          expect(E.isRight(breaks) && breaks.right).toEqual([]);
          const projections = await checkProjections(tc.client.db, [runId]);
          expect(E.isRight(projections) && projections.right.differences).toEqual([]);
        },
      ),
      // A process takes 0.5–2.5 s (start, connect, wait for the killed one's run to turn stale).
      { numRuns: 6 },
    );
    expect(kills).toBeGreaterThanOrEqual(6);
    // About one step in three is a map step: among the cases' 12–36 steps, some are.
    expect(mapSteps).toBeGreaterThan(0);
  }, 240_000);
});
