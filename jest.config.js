/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  // node, plus a check after each file that it left no connection or child process behind.
  testEnvironment: '<rootDir>/test/support/leakCheckEnvironment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  testTimeout: 60000,
  // Crash tests spawn real processes; two workers match the two cores CI has.
  maxWorkers: 2,
};
