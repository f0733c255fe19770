// Mocha's spec reporter, plus the closing line CI reads: `N passed, N failed[, N skipped]`.
'use strict';
const Mocha = require('mocha');

class V6labReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats ?? this.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
    });
  }
}
module.exports = V6labReporter;
