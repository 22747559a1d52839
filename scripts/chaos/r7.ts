/**
 * R7: payload extremes as step results and as metadata. Each must either round-trip faithfully
 * (what the journal gives back, and what a resumed step would see in its context, equals what was
 * given) or be refused with one clear line; nothing may crash.
 */
import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { loadRunState } from '../../src/journal/loadRunState';
import { readRunEvents } from '../../src/journal/readEvents';
import { prevResultsOf } from '../../src/executor/stepContext';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect } from '../../src/runtime/orbitClient';
import { prepareSchema } from './context';
import type { Ctx, ScenarioResult } from './context';

/** JSON has no -0: it is written as 0, the one normalisation JSON itself makes (see docs/RELIABILITY.md). */
const jsonEqual = (a: unknown, b: unknown): boolean =>
  isDeepStrictEqual(a, b) || isDeepStrictEqual(JSON.parse(JSON.stringify(a) ?? 'null'), b);

const nested = (depth: number): unknown => {
  let v: unknown = 'core';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Each payload is built fresh on demand (several are large). */
const payloads = (small: boolean): ReadonlyArray<readonly [string, () => unknown]> => [
  ['8,000 bytes', () => 'x'.repeat(7_998)],
  ['8,001 bytes', () => 'x'.repeat(7_999)],
  ...(small
    ? ([['1 MB', () => ({ blob: 'y'.repeat(1_000_000) })]] as const)
    : ([
        ['10 MB', () => ({ blob: 'y'.repeat(10_000_000) })],
        ['100 MB', () => ({ blob: 'z'.repeat(100_000_000) })],
      ] as const)),
  ['depth 256', () => nested(256)],
  ['depth 257', () => nested(257)],
  ['depth 10,000', () => nested(10_000)],
  ['__proto__ key', () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "a": 1}') as unknown],
  ['NUL character', () => ({ s: 'a\u0000b' })],
  ['lone surrogate', () => ({ s: 'x\ud800y' })],
  ['BigInt', () => ({ n: BigInt(10) ** BigInt(30) })],
  [
    'circular',
    () => {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    },
  ],
  ['unicode and escapes', () => ({ s: '\u2028\u2029"\\\t\u{1F600}é', k: { 'quo"te': 'x', '': 'empty key' } })],
  ['-0 and large numbers', () => ({ z: -0, big: 1e308, tiny: 5e-324, max: Number.MAX_SAFE_INTEGER })],
];

export const r7 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r7_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const registry = createRegistry();
  let current: () => unknown = () => null;
  const pipeline = definePipeline({
    name: 'payload',
    steps: [
      { name: 'make', handler: () => ({ success: true, data: current() }) },
      { name: 'after', handler: () => ({ success: true }) },
    ],
  });
  registry.registerPipeline(pipeline);
  const conn = await connect({ databaseUrl: ctx.cluster.url, schema, registry, migrate: false });
  if (E.isLeft(conn)) throw new Error(formatError(conn.left));
  const client = conn.right;
  const failures: string[] = [];
  let roundTrips = 0;
  let refusals = 0;
  let crashes = 0;
  let mismatches = 0;
  const refusalLines: string[] = [];

  const oneLine = (what: string, line: string): void => {
    refusals += 1;
    refusalLines.push(`${what}: ${line}`);
    if (line.includes('\n') || line.trim() === '') {
      mismatches += 1;
      failures.push(`${what}: refusal is not one clear line: ${JSON.stringify(line.slice(0, 200))}`);
    }
  };

  try {
    for (const [name, make] of payloads(ctx.small)) {
      // As a step result.
      try {
        current = make;
        const original = make();
        const r = await runPipeline('payload', {}, { client });
        if (E.isLeft(r)) oneLine(`result ${name}`, formatError(r.left));
        else if (r.right.status !== 'success') oneLine(`result ${name}`, r.right.error ?? '(no reason)');
        else {
          const events = await readRunEvents(client.db, r.right.runId);
          const stored = E.isRight(events)
            ? events.right.find((e) => e.event.type === 'step.succeeded' && e.event.stepName === 'make')
            : undefined;
          const journaled = stored?.event.type === 'step.succeeded' ? stored.event.payload.result : undefined;
          // What recovery hands the next step: prevResults folded from the journal as read back.
          const state = await loadRunState(client.db, r.right.runId);
          const prev = E.isRight(state) ? prevResultsOf(state.right, pipeline) : undefined;
          const seen = prev !== undefined && E.isRight(prev) ? prev.right['make']?.data : undefined;
          if (jsonEqual(original, journaled) && jsonEqual(original, seen)) roundTrips += 1;
          else {
            mismatches += 1;
            failures.push(
              `result ${name}: succeeded but the journal or the replayed context differs from what the step returned`,
            );
          }
        }
      } catch (err) {
        crashes += 1;
        failures.push(`result ${name}: crashed: ${err instanceof Error ? err.message : String(err)}`);
      }
      // As metadata (the large ones too: metadata travels in run.created).
      try {
        const original = make();
        current = () => null;
        const r = await runPipeline('payload', original, { client });
        if (E.isLeft(r)) oneLine(`metadata ${name}`, formatError(r.left));
        else {
          const events = await readRunEvents(client.db, r.right.runId);
          const created = E.isRight(events) ? events.right[0] : undefined;
          const journaled = created?.event.type === 'run.created' ? created.event.payload.metadata : undefined;
          if (jsonEqual(original, journaled)) roundTrips += 1;
          else {
            mismatches += 1;
            failures.push(`metadata ${name}: accepted but journaled differently`);
          }
        }
      } catch (err) {
        crashes += 1;
        failures.push(`metadata ${name}: crashed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await client.close();
  }
  for (const l of refusalLines) ctx.log(`  R7 refusal: ${l.slice(0, 160)}`);
  return {
    id: 'R7',
    title: 'payload extremes as step results and metadata',
    figures: [
      ['faithful round trips', roundTrips],
      ['clear refusals', refusals],
      ['crashes', crashes],
      ['mismatches', mismatches],
    ],
    failures,
    ms: Date.now() - t0,
  };
};
