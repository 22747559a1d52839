import * as E from 'fp-ts/Either';
import type { OrbitClient } from '../../api/connect';
import { cancelRun } from '../../api/cancelRun';
import { forkRun } from '../../api/forkRun';
import { sendEvent } from '../../api/sendEvent';
import { countRuns } from '../../api/countRuns';
import { loadRunState, type RunStatus } from '../../api/loadRunState';
import { readRunEvents } from '../../api/readRunEvents';
import { resumeRun } from '../../api/resumeRun';
import { searchRuns } from '../../api/searchRuns';
import { verifyRun } from '../../api/verifyRun';
import { formatError } from '../../api/internal/errors';
import { databaseNow, runLiveness } from '../../api/internal/liveness';
import { listWorkers } from '../../api/listWorkers';
import { pipelineStats } from '../../api/pipelineStats';
import { recoveryHistory } from '../../api/recoveryHistory';
import { recoveryStats } from '../../api/recoveryStats';
import { pipelinesMain, recoveryMain, workersMain } from './pages/otherPages';
import { buildTimeline } from '../../api/internal/timeline';
import { html, type Html, type PageFrame } from './html';
import { allowedActions, awaitedEvents, confirmMain, runMain, type ConfirmView, type RunAction } from './pages/runPage';
import { runsMain, STATUSES } from './pages/runsPage';

export interface RouteContext {
  readonly client: OrbitClient;
  readonly csrf: string;
  readonly readOnly: boolean;
  /** Who asks, as journaled: `ui` or `ui:<user>`. */
  readonly askedBy: string;
  /** Aborted when the dashboard stops: a resume it started releases its run. */
  readonly stopSignal: AbortSignal;
  /** Keeps a background action (a resume) until it ends, so that stopping waits for it. */
  readonly track: (p: Promise<unknown>) => void;
  readonly nowIso: () => string;
}

export type RouteResult =
  | ({ readonly kind: 'page'; readonly main: Html; readonly status?: number } & Pick<PageFrame, 'title' | 'section' | 'live'>)
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'error'; readonly status: number; readonly message: string };

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  /** `form`: a POST's body (urlencoded), checked for its CSRF token before; empty for a GET. */
  readonly handle: (
    ctx: RouteContext,
    params: readonly string[],
    query: URLSearchParams,
    form: URLSearchParams,
  ) => Promise<RouteResult>;
}

const failure = (e: Parameters<typeof formatError>[0]): RouteResult => ({ kind: 'error', status: 503, message: formatError(e) });

const runUrl = (runId: string, flash?: { kind: 'ok' | 'error'; text: string }) =>
  `/runs/${encodeURIComponent(runId)}${flash === undefined ? '' : `?${flash.kind}=${encodeURIComponent(flash.text)}`}`;

const runsPage: Route = {
  method: 'GET',
  path: /^\/$/,
  handle: async ({ client, nowIso }, _p, q) => {
    const asked = q.get('status') ?? '';
    const status = STATUSES.find((s) => s === asked);
    // A status that is none of them (a hand-edited link) filtered nothing and showed every run.
    if (asked !== '' && status === undefined)
      return { kind: 'error', status: 400, message: `Unknown status ${JSON.stringify(asked)}: one of ${STATUSES.join(', ')}` };
    const pipelineId = q.get('pipeline')?.trim() || undefined;
    const search = q.get('q')?.trim() || undefined;
    const after = q.get('after') ?? undefined;
    const [counts, page] = await Promise.all([
      countRuns({ client, pipelineId }),
      searchRuns({ client, status, pipelineId, search, after, limit: 50 }),
    ]);
    if (E.isLeft(counts)) return failure(counts.left);
    if (E.isLeft(page)) return failure(page.left);
    const pipelines = client.registry.list().map((p) => p.name);
    return {
      kind: 'page',
      title: 'Runs',
      section: 'runs',
      live: 'all',
      main: runsMain({ status, pipelineId, search, after }, counts.right, page.right, pipelines, Date.parse(nowIso())),
    };
  },
};

const RUN_ID = '([^/]{1,200})';

const runPage: Route = {
  method: 'GET',
  path: new RegExp(`^/runs/${RUN_ID}$`),
  handle: async ({ client, csrf, readOnly, nowIso }, [runId = ''], q) => {
    const state = await loadRunState(runId, { client });
    if (E.isLeft(state)) {
      return state.left._tag === 'RunNotFound'
        ? {
            kind: 'page',
            status: 404,
            title: 'Run not found',
            section: 'runs',
            live: 'none',
            main: html`<h1>Run not found</h1>
              <p>No run <span class="mono">${runId}</span> in this schema.</p>
              <p><a href="/">All runs</a></p>`,
          }
        : failure(state.left);
    }
    const [events, verification, liveness, dbNow] = await Promise.all([
      readRunEvents(runId, { client }),
      verifyRun(runId, { client }),
      runLiveness(client, runId),
      databaseNow(client),
    ]);
    // The "now" line and the elapsed time are the database's, as the journal's times are: a
    // dashboard host whose clock is off must not stretch or shrink a running run.
    const now = E.isRight(dbNow) ? dbNow.right.toISOString() : nowIso();
    if (E.isLeft(events)) return failure(events.left);
    if (E.isLeft(verification)) return failure(verification.left);
    const ok = q.get('ok');
    const error = q.get('error');
    const unfinished = state.right.status === 'pending' || state.right.status === 'running';
    return {
      kind: 'page',
      title: `Run ${runId}`,
      section: 'runs',
      live: { runId },
      main: runMain({
        state: state.right,
        events: events.right,
        timeline: buildTimeline(events.right, now),
        verification: verification.right,
        liveness: unfinished && E.isRight(liveness) ? liveness.right : null,
        nowIso: now,
        csrf,
        readOnly,
        flash: error !== null ? { kind: 'error', text: error } : ok !== null ? { kind: 'ok', text: ok } : null,
      }),
    };
  },
};

const isAction = (a: string | null): a is RunAction =>
  a === 'resume' || a === 'retry' || a === 'cancel' || a === 'fork' || a === 'send';

const READ_ONLY: RouteResult = { kind: 'error', status: 403, message: 'Forbidden: this dashboard is read-only (--read-only)' };

const confirmPageOf = (runId: string, view: ConfirmView, csrf: string, askedBy: string, status?: number): RouteResult => ({
  kind: 'page',
  status,
  title: 'Confirm',
  section: 'runs',
  live: 'none',
  main: confirmMain(runId, view, csrf, askedBy),
});

/** Send's confirmation: the event, the steps of the run that wait for it, and the data as typed. */
const sendView = async (
  client: OrbitClient,
  runId: string,
  event: string,
  data: string,
  error: string | null,
): Promise<E.Either<RouteResult, ConfirmView>> => {
  const state = await loadRunState(runId, { client });
  if (E.isLeft(state)) return E.left(failure(state.left));
  const steps = state.right.steps.filter((st) => st.status === 'waiting' && st.waitingFor === event).map((st) => st.name);
  return E.right({ action: 'send', event, steps, data, error });
};

const confirmPage: Route = {
  method: 'GET',
  path: new RegExp(`^/runs/${RUN_ID}/confirm$`),
  handle: async ({ client, csrf, readOnly, askedBy }, [runId = ''], q) => {
    const action = q.get('action');
    if (readOnly) return READ_ONLY;
    if (!isAction(action)) return { kind: 'error', status: 400, message: 'Unknown action' };
    if (action === 'fork') {
      const state = await loadRunState(runId, { client });
      if (E.isLeft(state)) return failure(state.left);
      const steps = state.right.steps.map((st) => ({ name: st.name, status: st.status }));
      // The step asked for, else the first that did not succeed (where a fix usually starts), else the first.
      const selected =
        steps.find((st) => st.name === q.get('step'))?.name ??
        steps.find((st) => st.status !== 'success')?.name ??
        steps[0]?.name ??
        '';
      return confirmPageOf(runId, { action, steps, selected }, csrf, askedBy);
    }
    if (action === 'send') {
      const state = await loadRunState(runId, { client });
      if (E.isLeft(state)) return failure(state.left);
      const event = q.get('event') ?? awaitedEvents(state.right)[0];
      if (event === undefined || event === '') return { kind: 'error', status: 400, message: 'No event: the run waits for none' };
      const view = await sendView(client, runId, event, '', null);
      return E.isLeft(view) ? view.left : confirmPageOf(runId, view.right, csrf, askedBy);
    }
    return confirmPageOf(runId, { action }, csrf, askedBy);
  },
};

/** Resumes in this process (the library's resumeRun, as `orbit resume` does); answers once the run is claimed or refused. */
const resume =
  (retryFailed: boolean): Route['handle'] =>
  async (ctx, [runId = '']) => {
    const { client, askedBy, stopSignal, track } = ctx;
    let claimed: () => void = () => undefined;
    const claim = new Promise<'claimed'>((resolve) => (claimed = () => resolve('claimed')));
    const running = resumeRun(runId, {
      client,
      retryFailed,
      reason: retryFailed
        ? `resume with failed steps retried, asked from the dashboard (${askedBy})`
        : `resume asked from the dashboard (${askedBy})`,
      requestedBy: askedBy,
      onClaimed: claimed,
      stopSignal,
    });
    track(running);
    const first = await Promise.race([claim, running]);
    if (first !== 'claimed' && E.isLeft(first))
      return { kind: 'redirect', location: runUrl(runId, { kind: 'error', text: `Resume refused: ${formatError(first.left)}` }) };
    return {
      kind: 'redirect',
      location: runUrl(runId, { kind: 'ok', text: retryFailed ? 'Resumed, retrying failed steps' : 'Resumed' }),
    };
  };

const resumeAction: Route = { method: 'POST', path: new RegExp(`^/runs/${RUN_ID}/resume$`), handle: resume(false) };
const retryAction: Route = { method: 'POST', path: new RegExp(`^/runs/${RUN_ID}/retry$`), handle: resume(true) };

const cancelAction: Route = {
  method: 'POST',
  path: new RegExp(`^/runs/${RUN_ID}/cancel$`),
  handle: async ({ client, askedBy }, [runId = '']) => {
    const r = await cancelRun(runId, { client, reason: `cancelled from the dashboard (${askedBy})` });
    return {
      kind: 'redirect',
      location: runUrl(
        runId,
        E.isLeft(r) ? { kind: 'error', text: `Cancel refused: ${formatError(r.left)}` } : { kind: 'ok', text: 'Cancelled' },
      ),
    };
  },
};

/**
 * Forks in this process (the library's forkRun, as `orbit fork` does) and answers with the new
 * run's page once it is created, or with the refusal on the source run's page.
 */
const forkAction: Route = {
  method: 'POST',
  path: new RegExp(`^/runs/${RUN_ID}/fork$`),
  handle: async ({ client, askedBy, stopSignal, track }, [runId = ''], _q, form) => {
    const fromStep = form.get('step') ?? '';
    let created: (id: string) => void = () => undefined;
    const claim = new Promise<{ readonly created: string }>((resolve) => (created = (id) => resolve({ created: id })));
    const running = forkRun(runId, { client, fromStep, triggeredBy: askedBy, onClaimed: created, stopSignal });
    track(running);
    const first = await Promise.race([claim, running]);
    if ('created' in first)
      return {
        kind: 'redirect',
        location: runUrl(first.created, { kind: 'ok', text: `Forked from ${runId} at step ${fromStep}` }),
      };
    if (E.isLeft(first))
      return { kind: 'redirect', location: runUrl(runId, { kind: 'error', text: `Fork refused: ${formatError(first.left)}` }) };
    return { kind: 'redirect', location: runUrl(first.right.runId) };
  },
};

/** The parsed JSON, or why it is not JSON (empty: null, as `orbit send` without --data). */
const parseData = (text: string): E.Either<string, unknown> => {
  if (text.trim() === '') return E.right(null);
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (err) {
    return E.left(`The data is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
};

/** Sends the event (the library's sendEvent, as `orbit send` does), journaled with the dashboard user as its sender. */
const sendAction: Route = {
  method: 'POST',
  path: new RegExp(`^/runs/${RUN_ID}/send$`),
  handle: async ({ client, csrf, askedBy }, [runId = ''], _q, form) => {
    const event = form.get('event') ?? '';
    const text = form.get('data') ?? '';
    const data = parseData(text);
    if (E.isLeft(data)) {
      // Back to the form, the text kept, the error on it: nothing was sent.
      const view = await sendView(client, runId, event, text, data.left);
      return E.isLeft(view) ? view.left : confirmPageOf(runId, view.right, csrf, askedBy, 400);
    }
    const r = await sendEvent(client, runId, event, data.right, { sender: askedBy });
    if (E.isLeft(r))
      return { kind: 'redirect', location: runUrl(runId, { kind: 'error', text: `Send refused: ${formatError(r.left)}` }) };
    const s = r.right;
    return {
      kind: 'redirect',
      location: runUrl(runId, {
        kind: 'ok',
        text:
          s.delivery === 'taken'
            ? `Event ${JSON.stringify(event)} sent (seq ${s.seq}); step ${s.step ?? '?'} takes it, a worker resumes the run`
            : `Event ${JSON.stringify(event)} sent (seq ${s.seq}); kept until a step waits for it`,
      }),
    };
  },
};

const workersPage: Route = {
  method: 'GET',
  path: /^\/workers$/,
  handle: async ({ client }) => {
    // Idle workers too: the registry every worker heartbeats, as `orbit workers` reads it.
    const rows = await listWorkers({ client });
    if (E.isLeft(rows)) return failure(rows.left);
    const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
    const workers = rows.right.map((w) => ({
      id: w.id,
      kind: w.kind,
      host: w.host,
      pid: w.pid,
      startedAt: w.startedAt.toISOString(),
      lastHeartbeatAt: w.lastHeartbeatAt.toISOString(),
      aliveUntil: iso(w.aliveUntil),
      leaseUntil: iso(w.leaseUntil),
      live: w.live,
      processGone: w.processGone,
      concurrency: w.concurrency,
      pipelines: w.pipelines,
      running: w.running,
    }));
    return { kind: 'page', title: 'Workers', section: 'workers', live: 'all', main: workersMain(workers) };
  },
};

const DAY_MS = 86_400_000;

const pipelinesPage: Route = {
  method: 'GET',
  path: /^\/pipelines$/,
  handle: async ({ client }) => {
    const stats = await pipelineStats({ client, sinceMs: DAY_MS });
    if (E.isLeft(stats)) return failure(stats.left);
    const registered = client.registry.list();
    const names = [...new Set([...registered.map((p) => p.name), ...stats.right.map((s) => s.pipelineId)])].sort();
    const views = names.map((name) => ({
      name,
      steps: registered.find((p) => p.name === name)?.stepNames ?? [],
      dependsOn: registered.find((p) => p.name === name)?.dependencies ?? null,
      stats: stats.right.find((s) => s.pipelineId === name),
    }));
    return { kind: 'page', title: 'Pipelines', section: 'pipelines', live: 'none', main: pipelinesMain(views, '24 hours') };
  },
};

const recoveryPage: Route = {
  method: 'GET',
  path: /^\/recovery$/,
  handle: async ({ client }) => {
    const [stats, points] = await Promise.all([
      recoveryStats({ client }),
      recoveryHistory({ client, bucketMs: 3_600_000, buckets: 24 }),
    ]);
    if (E.isLeft(stats)) return failure(stats.left);
    if (E.isLeft(points)) return failure(points.left);
    return {
      kind: 'page',
      title: 'Recovery',
      section: 'recovery',
      live: 'none',
      main: recoveryMain(stats.right, points.right, (iso) => `${iso.slice(11, 13)}h`),
    };
  },
};

export const routes: readonly Route[] = [
  runsPage,
  runPage,
  confirmPage,
  resumeAction,
  retryAction,
  cancelAction,
  forkAction,
  sendAction,
  workersPage,
  pipelinesPage,
  recoveryPage,
];

export { allowedActions, type RunStatus };
