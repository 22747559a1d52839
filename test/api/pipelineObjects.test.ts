/**
 * `runPipeline` and `enqueueRun` take the pipeline object: it is registered on the client's
 * registry the first time, reused after, and a different pipeline of the same name is refused
 * without anything journaled.
 */
import * as E from 'fp-ts/Either';
import { enqueueRun } from '../../src/api/enqueueRun';
import { runPipeline } from '../../src/api/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline } from '../../src/pipeline/types';
import { createTestClient, type TestClient } from '../support/testClient';

let h: TestClient;
beforeAll(async () => {
  h = await createTestClient({ prefix: 'pipeobj' });
});
afterAll(async () => h.dispose());

const make = (steps: string[]): Pipeline<unknown> =>
  definePipeline({ name: 'same-name', steps: steps.map((name) => ({ name, handler: () => ({ success: true }) })) });

const runCount = async (): Promise<number> =>
  Number((await h.client.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${h.client.db.qs}.runs`)).rows[0]?.n);

it('registers a pipeline object once, runs it, and refuses another pipeline of the same name', async () => {
  const first = make(['a', 'b']);
  const ran = await runPipeline(first, {}, { client: h.client });
  expect(E.isRight(ran) && ran.right.status).toBe('success');
  expect(E.isRight(h.registry.getPipeline('same-name'))).toBe(true);
  // The same object again: reused, not refused.
  const queued = await enqueueRun(first, {}, { client: h.client });
  expect(E.isRight(queued)).toBe(true);
  const before = await runCount();

  const other = make(['a', 'c']);
  for (const r of [await runPipeline(other, {}, { client: h.client }), await enqueueRun(other, {}, { client: h.client })]) {
    expect(E.isLeft(r) && r.left).toEqual({
      _tag: 'InvalidInput',
      what: 'pipeline',
      message: 'a different pipeline named "same-name" is already registered',
    });
  }
  expect(await runCount()).toBe(before);
});
