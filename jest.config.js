/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  testTimeout: 60000,
  // Crash tests spawn real processes; two workers match the two cores CI has.
  maxWorkers: 2,
};
