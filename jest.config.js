/** Three tiers selected by file name: *.spec.ts (unit, beside the code), *.int-spec.ts (integration against real
 * PostgreSQL/Kafka/Docker), test/**\/*.e2e-spec.ts (end to end through the real chatkitty SDK and a browser). */
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
}];
const moduleNameMapper = {
  '^@chatfn/(contracts|messaging|event-store|config|platform|testing|function-directory|runtime-artifacts)$': '<rootDir>/libs/$1/src',
};
const base = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc, '/node_modules/(lit-html|@stomp/rx-stomp)/.+\\.js$': swc },
  // @chatkitty/core (the real-time client in test/gateway) needs two ESM-only peers: compiled to CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(lit-html|@stomp/rx-stomp)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
module.exports = {
  // Global: jest ignores testTimeout inside `projects` entries.
  testTimeout: 120000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/infra/global-setup.ts',
      globalTeardown: '<rootDir>/test/infra/global-teardown.ts',
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/infra/global-setup.ts',
      globalTeardown: '<rootDir>/test/infra/global-teardown.ts',
    },
  ],
};
