/**
 * The shape of what a run is given and what a step returns, as the types say (issue 20 item 17):
 * metadata without a codec is a JSON object (an array or a string was journaled on main before this
 * test); a step's data field whose value is `undefined` is left out, as an absent field reads back
 * (`JsonObject` fields are `JsonValue | undefined`), and `undefined` inside an array is refused.
 */
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { readRunEvents } from '../../src/journal/readEvents';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft, expectRight } from '../support/testDatabase';

let tc: TestClient;
let data: unknown;
let seen: unknown;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'shape' });
  tc.registry.registerPipeline(
    definePipeline({
      name: 'shape',
      steps: [
        { name: 'make', handler: () => ({ success: true, data }) },
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
});
afterAll(async () => tc.dispose());

const journalRows = async (): Promise<number> =>
  (await tc.client.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tc.client.db.qs}.run_events`)).rows[0]?.n ?? -1;

it('refuses metadata that is not an object, before anything is journaled', async () => {
  const before = await journalRows();
  for (const [metadata, kind] of [
    [[1, 2], 'an array'],
    ['str', 'a string'],
    [42, 'a number'],
  ] as const) {
    const e = expectLeft(await runPipeline('shape', metadata, { client: tc.client }));
    expect(e).toMatchObject({ _tag: 'InvalidMetadata' });
    expect(JSON.stringify(e)).toContain(`metadata is a JSON object, not ${kind}`);
  }
  expect(await journalRows()).toBe(before);
});

it('leaves out a data field whose value is undefined, and refuses undefined in an array', async () => {
  data = { u: undefined, kept: 1 };
  const ok = expectRight(await runPipeline('shape', {}, { client: tc.client }));
  expect(ok.status).toBe('success');
  expect(seen).toEqual({ kept: 1 });
  expect(Object.keys(seen as object)).toEqual(['kept']);
  const events = expectRight(await readRunEvents(tc.client.db, ok.runId));
  expect(events.find((e) => e.event.type === 'step.succeeded')?.event.payload).toEqual({ result: { kept: 1 } });

  data = [1, undefined];
  const bad = expectRight(await runPipeline('shape', {}, { client: tc.client }));
  expect(bad.status).toBe('failed');
  expect(bad.state.steps[0]?.error).toMatchObject({ name: 'UnserializableResult' });
});
