import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import type { PipelineStats } from '../projections/pipelineStats';
import { readPipelineStats } from '../projections/readPipelineStats';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { PipelineStats } from '../projections/pipelineStats';

export interface PipelineStatsOptions extends ClientOption {
  /** Over the runs started in the last this many ms. Default one day. */
  readonly sinceMs?: number;
}

/** Per pipeline: recent runs, success rate, median and p95 duration (the dashboard's Pipelines page). */
export const pipelineStats = async (opts: PipelineStatsOptions = {}): Promise<E.Either<ConnectFailure, PipelineStats[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : readPipelineStats(c.right.readDb, opts.sinceMs ?? 86_400_000);
};
