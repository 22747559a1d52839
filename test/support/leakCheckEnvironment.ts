import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';
import { findLeaks, formatLeaks, LEAK_TOKEN_VAR, sharedServerPid } from './leakCheck';

/**
 * The suite's test environment: node, plus a leak check once a file's last afterAll has run.
 * It runs on circus's `run_finish` event (a setupFilesAfterEnv afterAll would run before the
 * file's own afterAll hooks, which circus runs in declaration order), and reports a leak as an
 * error of the file, so the file fails and its tests' results are still shown.
 */
export default class LeakCheckEnvironment extends NodeEnvironment {
  private readonly token: string;
  private readonly testPath: string;
  private readonly rootDir: string;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.token = randomBytes(8).toString('hex');
    this.rootDir = config.globalConfig.rootDir;
    this.testPath = path.relative(this.rootDir, context.testPath);
    // Children spawned without `env` inherit the real process.env; those spawned with a copy of
    // the test's `process.env` (test/support/cli.ts) inherit the test global's. Mark both.
    process.env[LEAK_TOKEN_VAR] = this.token;
    const testProcess = this.global.process as NodeJS.Process | undefined;
    if (testProcess) testProcess.env[LEAK_TOKEN_VAR] = this.token;
  }

  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish') return;
    const shared = sharedServerPid(this.rootDir);
    const leaks = await findLeaks({
      url: process.env.DATABASE_URL,
      token: this.token,
      excludedPids: () => (shared === undefined ? [] : [shared]),
    });
    if (leaks.connections.length > 0 || leaks.sockets.length > 0 || leaks.processes.length > 0) {
      const error = new Error(formatLeaks(this.testPath, leaks));
      error.stack = error.message; // the frame would point here, not at the leak
      state.unhandledErrors.push(error);
    }
  }

  override async teardown(): Promise<void> {
    if (process.env[LEAK_TOKEN_VAR] === this.token) delete process.env[LEAK_TOKEN_VAR];
    await super.teardown();
  }
}
