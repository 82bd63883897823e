/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/setup/node-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // d3-contour and its dependencies ship only ES modules.
    '^.+\\.m?js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(d3-contour|d3-array|internmap)/)'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  testTimeout: 120000,
  maxWorkers: 2,
};
