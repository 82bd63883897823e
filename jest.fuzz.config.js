/** `npm run fuzz`: the fuzz suite (test/fuzz/*.fuzz.ts), not part of the normal test run. */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['**/*.fuzz.ts'],
  testTimeout: 3_600_000,
  maxWorkers: 1,
};
