import type { PipelineStats } from '../../../api/pipelineStats';
import type { RecoveryPoint } from '../../../api/recoveryHistory';
import type { RecoveryStats } from '../../../api/recoveryStats';
import { badge, formatDuration, href, html, time, type Html } from '../html';
import { barChart } from './charts';

/** A worker or lease-holding process, as `listWorkers` (and `orbit workers`) reads it (database clock). */
export interface WorkerView {
  readonly id: string;
  /** `worker`: an `orbit worker` / startWorker, idle or busy; `process`: anything else holding a lease. */
  readonly kind: 'worker' | 'process';
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly lastHeartbeatAt: string;
  readonly aliveUntil: string | null;
  readonly leaseUntil: string | null;
  readonly live: boolean;
  readonly concurrency: number | null;
  readonly pipelines: readonly { readonly name: string; readonly definitionHash: string }[];
  readonly running: readonly string[];
  readonly processGone: boolean;
}

export const workersMain = (workers: readonly WorkerView[]): Html => {
  const live = workers.filter((w) => w.live);
  const idle = live.filter((w) => w.running.length === 0).length;
  return html`<h1>Workers</h1>
    <p class="muted">
      ${live.length} live (${idle} idle), ${workers.length - live.length} gone. Every worker (<span class="mono"
        >orbit worker</span
      >, <span class="mono">startWorker</span>) heartbeats its registration, busy or idle; any other process that executes runs
      (<span class="mono">orbit run</span>, <span class="mono">orbit resume</span>, this dashboard's resumes) is listed while it
      holds a lease. A process that is gone has its runs recovered.
    </p>
    ${
      workers.length === 0
        ? html`<p class="empty">No worker is registered and no process holds a lease.</p>`
        : html`<table id="workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Host / pid</th>
                <th>Started (UTC)</th>
                <th>Alive until</th>
                <th>Concurrency</th>
                <th>Pipelines</th>
                <th>Running</th>
              </tr>
            </thead>
            <tbody>
              ${workers.map(
                (w) =>
                  html`<tr class="${w.live ? 'live' : 'expired'}">
                    <td class="mono small">${w.id} <span class="muted">${w.kind}</span></td>
                    <td>${w.host} <span class="muted">/ ${w.pid}</span></td>
                    <td>${time(w.startedAt)}</td>
                    <td>
                      ${w.live ? badge('running') : badge('failed')} ${w.aliveUntil === null ? '' : time(w.aliveUntil)}
                      ${w.processGone ? html`<div class="small gone">${w.leaseUntil !== null ? 'process gone: its lease no longer protects its runs' : 'process gone (killed while idle): its registration no longer counts'}</div>` : ''}
                      <div class="muted small">
                        heartbeat
                        ${time(w.lastHeartbeatAt)}${w.leaseUntil === null ? '' : html`, lease until ${time(w.leaseUntil)}`}
                      </div>
                    </td>
                    <td>${w.concurrency === null ? html`<span class="muted">–</span>` : String(w.concurrency)}</td>
                    <td class="small">
                      ${w.pipelines.length === 0 ? html`<span class="muted">–</span>` : w.pipelines.map((p, i) => html`${i > 0 ? ', ' : ''}<span title="${p.definitionHash}">${p.name}</span>`)}
                    </td>
                    <td>
                      ${w.running.length === 0 ? html`<span class="muted">idle</span>` : w.running.map((r, i) => html`${i > 0 ? ', ' : ''}<a class="mono small" href="${`/runs/${encodeURIComponent(r)}`}">${r}</a>`)}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
};

export interface PipelineView {
  readonly name: string;
  readonly steps: readonly string[];
  /** Every step's dependencies by name; null when each step follows the one before it. */
  readonly dependsOn: Readonly<Record<string, readonly string[]>> | null;
  readonly stats: PipelineStats | undefined;
}

const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(r === 1 ? 0 : 1)}%`);

/**
 * A pipeline's graph, left to right: each step in the column of its longest path from a step with
 * no dependency (a linear pipeline is one row of boxes), an arrow from each dependency. Server-side
 * SVG, no script; the pipeline was checked when it was defined, so there is no circle to meet.
 */
export const stepGraph = (steps: readonly string[], dependsOn: Readonly<Record<string, readonly string[]>> | null): Html => {
  const bw = 150;
  const bh = 32;
  const gap = 40;
  const vgap = 12;
  const depsOf = (s: string, i: number): readonly string[] =>
    dependsOn === null ? (i > 0 ? [steps[i - 1] as string] : []) : (dependsOn[s] ?? []);
  const column = new Map<string, number>();
  const columnOf = (s: string, seen: number): number => {
    const known = column.get(s);
    if (known !== undefined) return known;
    const i = steps.indexOf(s);
    const c = seen > steps.length ? 0 : Math.max(-1, ...depsOf(s, i).map((d) => columnOf(d, seen + 1))) + 1;
    column.set(s, c);
    return c;
  };
  const rowsIn: number[] = [];
  const place = new Map<string, { x: number; y: number }>();
  for (const s of steps) {
    const c = columnOf(s, 0);
    const r = rowsIn[c] ?? 0;
    rowsIn[c] = r + 1;
    place.set(s, { x: c * (bw + gap) + 2, y: r * (bh + vgap) + 6 });
  }
  const width = rowsIn.length * (bw + gap) - gap + 4;
  const height = Math.max(...rowsIn) * (bh + vgap) - vgap + 12;
  const edges = steps.flatMap((s, i) =>
    depsOf(s, i).map((d) => {
      const from = place.get(d);
      const to = place.get(s);
      if (from === undefined || to === undefined) return '';
      const [x0, y0, x1, y1] = [from.x + bw, from.y + bh / 2, to.x - 2, to.y + bh / 2];
      const mid = (x0 + x1) / 2;
      return html`<path class="edge" d="${`M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`}" />`;
    }),
  );
  return html`<svg
    class="graph"
    viewBox="0 0 ${Math.max(width, 10)} ${height}"
    width="${Math.max(width, 10)}"
    height="${height}"
    role="img"
    aria-label="${`steps of the pipeline${dependsOn === null ? '' : ' and their dependencies'}`}"
    data-columns="${rowsIn.length}"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" />
      </marker>
    </defs>
    ${edges}
    ${steps.map((s) => {
      const { x, y } = place.get(s) ?? { x: 0, y: 0 };
      return html`<g class="node" data-step="${s}"
        ><rect x="${x}" y="${y}" width="${bw}" height="${bh}" rx="6" /><text x="${x + bw / 2}" y="${y + 21}" text-anchor="middle"
          >${s.length > 20 ? `${s.slice(0, 19)}…` : s}</text
        ><title>${s}${depsOf(s, steps.indexOf(s)).length > 0 ? ` ← ${depsOf(s, steps.indexOf(s)).join(', ')}` : ''}</title></g
      >`;
    })}
  </svg>`;
};

export const pipelinesMain = (pipelines: readonly PipelineView[], windowLabel: string): Html =>
  html`<h1>Pipelines</h1>
    <p class="muted">
      Registered pipelines (from <span class="mono">--pipelines</span>) and any other pipeline with runs in the last
      ${windowLabel}.
    </p>
    ${
      pipelines.length === 0
        ? html`<p class="empty">
            No pipeline registered and no run in the last ${windowLabel}. Start the dashboard with
            <span class="mono">--pipelines ./pipelines.js</span>.
          </p>`
        : html`<div class="cards wide" id="pipelines">
            ${pipelines.map(
              (p) =>
                html`<section class="card pipeline" data-pipeline="${p.name}">
                  <h3><a href="${href('/', { pipeline: p.name })}">${p.name}</a></h3>
                  ${p.steps.length > 0 ? stepGraph(p.steps, p.dependsOn) : html`<p class="muted small">not registered here: steps unknown</p>`}
                  <table class="mini">
                    <tbody>
                      <tr>
                        <th>runs (${windowLabel})</th>
                        <td class="num">${p.stats?.runs ?? 0}</td>
                        <th>success rate</th>
                        <td class="num">${pct(p.stats?.successRate ?? null)}</td>
                      </tr>
                      <tr>
                        <th>failed</th>
                        <td class="num">${p.stats?.failed ?? 0}</td>
                        <th>unfinished</th>
                        <td class="num">${p.stats?.unfinished ?? 0}</td>
                      </tr>
                      <tr>
                        <th>median</th>
                        <td class="num">${p.stats?.p50Ms == null ? '—' : formatDuration(p.stats.p50Ms)}</td>
                        <th>p95</th>
                        <td class="num">${p.stats?.p95Ms == null ? '—' : formatDuration(p.stats.p95Ms)}</td>
                      </tr>
                    </tbody>
                  </table>
                </section>`,
            )}
          </div>`
    }`;

export const recoveryMain = (
  stats: RecoveryStats,
  points: readonly RecoveryPoint[],
  bucketLabel: (iso: string) => string,
): Html => {
  const label = (p: RecoveryPoint) => bucketLabel(p.from);
  return html`<h1>Recovery</h1>
    <div class="cards" id="recovery-stats">
      <div class="card">
        <h3>Interrupted now</h3>
        <div class="stat">${stats.interruptedNow}</div>
        <div class="muted small">${stats.interruptedTotal} detected in all</div>
      </div>
      <div class="card">
        <h3>Recovery success rate</h3>
        <div class="stat">${pct(stats.successRate)}</div>
        <div class="muted small">${stats.recoveries} recoveries of ${stats.runsRecovered} runs</div>
      </div>
      <div class="card">
        <h3>Steps re-executed per recovery</h3>
        <div class="stat">${stats.stepsReExecutedPerRecovery === null ? '—' : stats.stepsReExecutedPerRecovery.toFixed(2)}</div>
        <div class="muted small">in-flight steps run again</div>
      </div>
      <div class="card">
        <h3>Recovery time</h3>
        <div class="stat">${stats.averageRecoveryMs === null ? '—' : formatDuration(stats.averageRecoveryMs)}</div>
        <div class="muted small">
          resume to end; downtime ${stats.averageDowntimeMs === null ? '—' : formatDuration(stats.averageDowntimeMs)}
        </div>
      </div>
    </div>
    <h2>Over the last 24 hours</h2>
    <div class="cards" id="recovery-charts">
      ${barChart(
        'Interrupted runs detected',
        points.map((p) => ({ label: label(p), value: p.interrupted })),
        (v) => String(Math.round(v)),
        'bad',
      )}
      ${barChart(
        'Recovery success rate',
        points.map((p) => ({ label: label(p), value: p.successRate === null ? null : p.successRate * 100 })),
        (v) => `${Math.round(v)}%`,
      )}
      ${barChart(
        'Steps re-executed',
        points.map((p) => ({ label: label(p), value: p.stepsReExecuted })),
        (v) => String(Math.round(v)),
      )}
      ${barChart(
        'Recovery time (average)',
        points.map((p) => ({ label: label(p), value: p.averageRecoveryMs })),
        formatDuration,
      )}
    </div>`;
};
