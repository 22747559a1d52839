/**
 * The public, client-taking functions: one file each, re-exported here whole. What a file in this
 * folder exports is public (src/index.ts re-exports this module, and `orbit-pipeline/promise` is
 * derived from it); test/structure/publicSurface.test.ts checks that every file is listed.
 * src/api/internal/ holds what the CLI needs beyond it, and is not re-exported.
 */
export * from './analyzeStepCompletion';
export * from './auditJournal';
export * from './cancelRun';
export * from './clientOption';
export * from './connect';
export * from './countRuns';
export * from './detectInterruptedRuns';
export * from './diffRuns';
export * from './enqueueFork';
export * from './enqueueRun';
export * from './exportRuns';
export * from './forkRun';
export * from './followRun';
export * from './listRuns';
export * from './listStrandedRuns';
export * from './listWorkers';
export * from './loadRunState';
export * from './pipelineStats';
export * from './planRecovery';
export * from './readReplicaLag';
export * from './readRunEvents';
export * from './reconstructStepContext';
export * from './recoveryHistory';
export * from './recoveryStats';
export * from './replayRun';
export * from './resumeRun';
export * from './runPipeline';
export * from './runRecoveryOrchestrator';
export * from './schedules';
export * from './searchRuns';
export * from './sendEvent';
export * from './startWorker';
export * from './verifyRun';
export * from './watchRuns';
