/**
 * Payloads at and past Orbit's limits: the deepest JSON journaled faithfully, one level more
 * refused with a message naming the limit (never a codec error from the journal), metadata
 * refused before anything is journaled, and error messages that never echo a metadata value.
 */
import * as t from 'io-ts';
import { formatError } from '../../src/errors';
import { MAX_JSON_DEPTH, toJsonValue } from '../../src/events/json';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { readRunEvents } from '../../src/journal/readEvents';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft, expectRight } from '../support/testDatabase';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'payload' });
});
afterAll(async () => tc.dispose());

/** `depth` arrays nested around a string. */
const nested = (depth: number): unknown => {
  let v: unknown = 'core';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

const journalRows = async (): Promise<number> =>
  (await tc.client.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tc.client.db.qs}.run_events`)).rows[0]?.n ?? -1;

describe('JSON depth', () => {
  it('toJsonValue accepts the limit and names it one level past, without exhausting the stack', () => {
    expect(toJsonValue(nested(MAX_JSON_DEPTH))).toEqual({ ok: true, value: nested(MAX_JSON_DEPTH) });
    for (const depth of [MAX_JSON_DEPTH + 1, 1_000, 10_000, 200_000]) {
      const r = toJsonValue(nested(depth));
      expect(r).toEqual({
        ok: false,
        reason: `it nests more than ${MAX_JSON_DEPTH} levels deep (Orbit's limit for journaled JSON)`,
      });
    }
  });

  it('a step result at the limit round-trips through the journal; one level deeper fails the step by name', async () => {
    let depth = MAX_JSON_DEPTH;
    let seen: unknown;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'deep',
        steps: [
          { name: 'make', handler: () => ({ success: true, data: nested(depth) }) },
          {
            name: 'read',
            handler: (ctx) => {
              seen = ctx.prevResults['make']?.data;
              return { success: true };
            },
          },
        ],
      }),
    );
    const ok = expectRight(await runPipeline('deep', {}, { client: tc.client }));
    expect(ok.status).toBe('success');
    expect(seen).toEqual(nested(MAX_JSON_DEPTH));
    const events = expectRight(await readRunEvents(tc.client.db, ok.runId));
    const succeeded = events.find((e) => e.event.type === 'step.succeeded');
    expect(succeeded?.event.payload).toMatchObject({ result: nested(MAX_JSON_DEPTH) });

    for (const d of [MAX_JSON_DEPTH + 1, 10_000]) {
      depth = d;
      const bad = expectRight(await runPipeline('deep', {}, { client: tc.client }));
      expect(bad.status).toBe('failed');
      expect(bad.state.steps[0]?.error).toMatchObject({
        name: 'UnserializableResult',
        message: `step "make" returned data that cannot be journaled as JSON: it nests more than ${MAX_JSON_DEPTH} levels deep (Orbit's limit for journaled JSON)`,
      });
      expect(bad.state.steps[1]?.status).toBe('pending');
    }
  });

  it('metadata past the limit is refused by name before anything is journaled', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'meta-deep', steps: [{ name: 'a', handler: () => ({ success: true }) }] }),
    );
    const before = await journalRows();
    for (const d of [MAX_JSON_DEPTH + 1, 1_000]) {
      const e = expectLeft(await runPipeline('meta-deep', { deep: nested(d) }, { client: tc.client }));
      expect(formatError(e)).toBe(
        `Invalid metadata for pipeline "meta-deep": it nests more than ${MAX_JSON_DEPTH} levels deep (Orbit's limit for journaled JSON)`,
      );
    }
    expect(await journalRows()).toBe(before);
  });
});

describe('metadata refusals', () => {
  it('null metadata is InvalidMetadata, not a NOT NULL violation, and nothing is journaled', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'meta-null', steps: [{ name: 'a', handler: () => ({ success: true }) }] }),
    );
    const before = await journalRows();
    const e = expectLeft(await runPipeline('meta-null', null, { client: tc.client }));
    expect(e).toEqual({ _tag: 'InvalidMetadata', pipelineId: 'meta-null', message: 'metadata is null (pass {} for none)' });
    expect(await journalRows()).toBe(before);
  });

  it('circular metadata is refused in one line (V8 draws the cycle over several)', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'meta-cycle', steps: [{ name: 'a', handler: () => ({ success: true }) }] }),
    );
    const m: Record<string, unknown> = {};
    m.self = m;
    const line = formatError(expectLeft(await runPipeline('meta-cycle', m, { client: tc.client })));
    expect(line).toMatch(/^Invalid metadata for pipeline "meta-cycle": Converting circular structure to JSON/);
    expect(line).not.toContain('\n');
  });

  it('InvalidMetadata names the path and the expected type, never the value', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'meta-secret',
        metadata: t.type({ user: t.type({ password: t.string }) }),
        steps: [{ name: 'a', handler: () => ({ success: true }) }],
      }),
    );
    const e = expectLeft(
      await runPipeline('meta-secret', { user: { password: { plain: 'hunter2-nested' } } }, { client: tc.client }),
    );
    const line = formatError(e);
    expect(line).toBe('Invalid metadata for pipeline "meta-secret": user.password: expected string, got an object');
    expect(line).not.toContain('hunter2');
  });
});
