import * as E from 'fp-ts/Either';
import * as root from '../../src/index';
import type {
  AppendFailure,
  CancelFailure,
  ConcurrencyConflict,
  ConnectFailure,
  DbFailure,
  EnqueueFailure,
  ErrorOf,
  EventDecodeError,
  FoldFailure,
  IllegalTransition,
  InvalidInput,
  InvalidMetadata,
  InvalidSchemaName,
  OrbitError,
  ReadFailure,
  ResumeFailure,
  ResumeRefusal,
  RunNotFound,
  RunNotResumable,
  RunPipelineFailure,
} from '../../src/index';
import type { OrbitFailure } from '../../src/promise';
import { parseReplayPoint } from '../../src/audit/replayRun';
import { decideNext } from '../../src/decide/decideNext';
import { createTestClient, type TestClient } from '../support/testClient';

/*
 * Each public function's Left is the union of the errors it can return, not OrbitError. The type
 * checks below are compiled by ts-jest and by `npm run lint`: widening a function's Left back to
 * OrbitError (or narrowing it) makes `Same` false and this file fail to compile, and each
 * `@ts-expect-error` line fails to compile once the tag it rejects becomes possible.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const exactly = <A, B>(same: Same<A, B>): Same<A, B> => same;

// Getting a client.
exactly<ErrorOf<typeof root.connect>, DbFailure | InvalidInput | InvalidSchemaName>(true);
exactly<ErrorOf<typeof root.defaultClient>, ConnectFailure>(true);
// Running and cancelling.
exactly<ErrorOf<typeof root.runPipeline>, RunPipelineFailure>(true);
exactly<ErrorOf<typeof root.enqueueRun>, EnqueueFailure>(true);
exactly<ErrorOf<typeof root.cancelRun>, CancelFailure>(true);
exactly<CancelFailure, ConnectFailure | FoldFailure | AppendFailure | root.RunNotCancellable>(true);
// Recovery.
exactly<ErrorOf<typeof root.detectInterruptedRuns>, ConnectFailure>(true);
exactly<ErrorOf<typeof root.analyzeStepCompletion>, ConnectFailure | FoldFailure | RunNotFound>(true);
exactly<ErrorOf<typeof root.resumeRun>, ResumeFailure>(true);
exactly<ErrorOf<typeof root.recoveryStats>, ConnectFailure>(true);
exactly<ErrorOf<typeof root.planRecovery>, ConnectFailure>(true);
exactly<ErrorOf<typeof root.startWorker>, ConnectFailure>(true);
exactly<ErrorOf<root.RunRecoveryOrchestrator['recoverInterruptedRuns']>, ConnectFailure>(true);
exactly<ErrorOf<typeof decideNext>, IllegalTransition | ResumeRefusal>(true);
exactly<Extract<root.RecoveryOutcome, { outcome: 'failed' }>['error'], ResumeFailure>(true);
// Reading.
exactly<ErrorOf<typeof root.listRuns>, ConnectFailure>(true);
exactly<ErrorOf<typeof root.readRunEvents>, ConnectFailure | ReadFailure>(true);
exactly<ErrorOf<typeof root.loadRunState>, ConnectFailure | FoldFailure | RunNotFound>(true);
exactly<ErrorOf<typeof parseReplayPoint>, InvalidInput>(true);
exactly<
  ErrorOf<typeof root.replayRun>,
  ConnectFailure | FoldFailure | RunNotFound | InvalidInput | InvalidMetadata | EventDecodeError
>(true);
exactly<ErrorOf<root.Registry['getPipeline']>, root.PipelineNotFound>(true);
// Auditing.
exactly<ErrorOf<typeof root.auditJournal>, ConnectFailure>(true);
exactly<ErrorOf<typeof root.diffRuns>, ConnectFailure | FoldFailure | RunNotFound>(true);
exactly<ErrorOf<typeof root.followRun>, ConnectFailure | ReadFailure>(true);

// None of them is the whole of OrbitError.
// @ts-expect-error resumeRun cannot return every OrbitError (e.g. not ConcurrencyConflict)
exactly<ErrorOf<typeof root.resumeRun>, OrbitError>(true);
// @ts-expect-error listRuns reads no journal: no RunNotFound
exactly<ErrorOf<typeof root.listRuns>, OrbitError>(true);

// What a caller's switch may and may not see.
const listRunsCannotFindNoRun: ErrorOf<typeof root.listRuns> = { _tag: 'DatabaseUnavailable', message: 'x' };
// @ts-expect-error listRuns never returns RunNotFound
const listRunsNotFound: ErrorOf<typeof root.listRuns> = { _tag: 'RunNotFound', runId: 'x' };
// @ts-expect-error a resume never reports a bare ConcurrencyConflict (it becomes RunAlreadyClaimed or Fenced)
const resumeConflict: ErrorOf<typeof root.resumeRun> = { _tag: 'ConcurrencyConflict', runId: 'x', expectedSeq: 1, actualSeq: 2 };
// @ts-expect-error cancelRun never refuses a run as not resumable
const cancelNotResumable: CancelFailure = {
  _tag: 'RunNotResumable',
  runId: 'x',
  status: 'success',
  reason: 'r',
} satisfies RunNotResumable;
void [listRunsCannotFindNoRun, listRunsNotFound, resumeConflict, cancelNotResumable];
// The promise entry's rejection carries the same union.
const rejected = (f: OrbitFailure<ResumeFailure>): ResumeFailure['_tag'] => f.error._tag;
void rejected;
exactly<Extract<ResumeFailure, ConcurrencyConflict>, never>(true);

/** The values behind the types: what the functions return at run time is inside their union. */
describe('error unions at run time', () => {
  let tc: TestClient;
  beforeAll(async () => {
    tc = await createTestClient({ prefix: 'unions' });
  });
  afterAll(async () => {
    await tc.dispose();
  });

  it('connect: a bad URL is InvalidInput, a bad schema InvalidSchemaName, both before any connection', async () => {
    const url = await root.connect({ databaseUrl: 'mysql://x' });
    expect(E.isLeft(url) && url.left._tag).toBe('InvalidInput');
    const schema = await root.connect({ databaseUrl: tc.url, schema: 'Bad-Name' });
    expect(E.isLeft(schema) && schema.left._tag).toBe('InvalidSchemaName');
  });

  it('resumeRun, cancelRun, loadRunState of an unknown run: RunNotFound, a member of each union', async () => {
    const resumed = await root.resumeRun('no-such-run', { client: tc.client });
    const cancelled = await root.cancelRun('no-such-run', { client: tc.client });
    const loaded = await root.loadRunState('no-such-run', { client: tc.client });
    const tagOf = (r: E.Either<OrbitError, unknown>): string => (E.isLeft(r) ? r.left._tag : 'Right');
    const tags = [tagOf(resumed), tagOf(cancelled), tagOf(loaded)];
    expect(tags).toEqual(['RunNotFound', 'RunNotFound', 'RunNotFound']);
  });

  it('replayRun of an unknown run is RunNotFound; a replay point that is neither seq nor time is InvalidInput', async () => {
    const r = await root.replayRun('no-such-run', { seq: 1 }, { client: tc.client });
    expect(E.isLeft(r) && r.left._tag).toBe('RunNotFound');
    const point = parseReplayPoint('banana');
    expect(E.isLeft(point) && point.left).toMatchObject({ _tag: 'InvalidInput', what: '--at' });
  });
});
