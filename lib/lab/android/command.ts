/**
 * The program a virtual handset's PATH wrappers run (./toolbox.ts installToolbox):
 *
 *   node command.js COMMAND ARGS...      (V6LAB_HANDSET_DIR names the handset's state directory)
 *
 * It loads nothing but Node before it has a way to speak: the toolbox is imported here, so a
 * module the shell user cannot read, or one that is missing, is said in one line naming it (exit
 * 126, as a shell says a command it cannot execute) and a command that throws in one line (exit
 * 1). Node's own report of either is a stack trace whose last line, `Node.js v20...`, is all a
 * caller that keeps the last line of stderr would show.
 */
/** One line for an error thrown while loading or running a command. */
function describeFailure(error: unknown): { line: string; code: number } {
  const e = error as NodeJS.ErrnoException & { url?: string };
  const firstLine = (text: string) => text.split('\n')[0]!.trim();
  const uid = process.getuid?.();
  const as = uid === undefined ? '' : ` as uid ${uid}`;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return { line: `cannot read ${e.path ?? e.url ?? "a module of the handset's commands"}${as} (permission denied)`, code: 126 };
  }
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || (e?.code === 'ENOENT' && e.path !== undefined)) {
    return { line: `cannot load the handset's commands: ${firstLine(e.message)}`, code: 126 };
  }
  return { line: error instanceof Error ? firstLine(error.message) : String(error), code: 1 };
}

async function main(): Promise<void> {
  const [command = '', ...args] = process.argv.slice(2);
  const say = (failure: { line: string; code: number }): void => {
    process.stderr.write(`${command}: ${failure.line}\n`);
    process.exitCode = failure.code;
  };
  let toolbox: typeof import('./toolbox.js');
  try {
    toolbox = await import('./toolbox.js');
  } catch (error) {
    say(describeFailure(error));
    return;
  }
  try {
    process.exitCode = await toolbox.runCommandLine(command, args, process.env.V6LAB_HANDSET_DIR);
  } catch (error) {
    say(describeFailure(error));
  }
}

// Only ever run as a program (never imported): no check of argv[1], which a symlinked state
// directory would make differ from this module's real path.
await main();
