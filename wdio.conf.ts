// WebdriverIO configuration. A skeleton until the certification suites land (issue 4): it
// names where the specs live and which framework runs them, so `wdio` finds nothing to run
// rather than the wrong thing.
export const config = {
  runner: 'local',
  specs: ['./specs/**/*.spec.ts'],
  framework: 'mocha',
  mochaOpts: { ui: 'bdd', timeout: 120_000 },
  reporters: ['spec'],
  maxInstances: 4,
  capabilities: [],
};
