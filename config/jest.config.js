// One Jest run covers unit, integration and end-to-end specs. Each spec file that needs
// PostgreSQL clones its own database from a migrated template (test/support/database.ts),
// so files run in parallel without sharing state.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? '50%',
  setupFiles: ['reflect-metadata'],
};
