/**
 * The `v6lab` command line. Commands import their modules lazily so `--help` and `analyze` start
 * fast (WebdriverIO and Appium load only for the commands that drive devices).
 */
import { Command, CommanderError, Option } from 'commander';
import { toolVersion } from './version.js';
import { EXIT, UsageError } from './errors.js';
import { PackageNotInstalledError, PolicyError } from '../api/errors.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A whole number 0 or more, the usage error naming the option. */
const wholeNumber = (option: string) => (v: string) => {
  const n = /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${option}: ${JSON.stringify(v)} is not a whole number, 0 or more`);
  return n;
};

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('v6lab')
    .description('Proves whether Android handsets and their apps really use IPv6.')
    .version(toolVersion())
    .addHelpText('after', '\nCommands, options, exit codes, JSON documents, data files and the API: docs/contracts.md')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('analyze')
    .description('analyse one pcap or pcapng capture offline: flows by path, DNS, NAT64, CLAT, Happy Eyeballs')
    .argument('<capture>', 'pcap or pcapng file')
    .option('--json', 'print the analysis as one JSON object (CONTRACTS.md section 2)')
    .option('--html <file>', 'also write a one-file HTML view of the analysis (no network needed to open it)')
    .option('--lang <lang>', 'the language of the --html page: en or zh-CN (default: from LC_ALL, LC_MESSAGES or LANG)')
    .addOption(new Option('--nat64-prefix <prefix>', 'a NAT64 prefix such as 64:ff9b::/96 (repeatable)').argParser(collect))
    .addOption(new Option('--clat-address <address>', "the CLAT's IPv6 address (repeatable)").argParser(collect))
    .addOption(
      new Option('--top <n>', 'rows listed in each table: flows, DNS queries, hostnames (default 25; the rest are counted)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`--top: ${JSON.stringify(v)} is not a whole number`);
        return n;
      }),
    )
    .addOption(
      new Option(
        '--app-uid <uid>',
        "judge the app of this uid by certify's rules (exit 1 when it fails); a capture alone has no socket owners, so its flows are attributed by time window over the whole capture (docs/analyze.md)",
      ).argParser(wholeNumber('--app-uid')),
    )
    .option('--app <package>', "judge this app by certify's rules (exit 1 when it fails), its uid read from --device")
    .option('--device <serial>', 'the adb serial --app is read from')
    .option('--min-ipv6-share <share>', 'with --app/--app-uid: native IPv6 share of the bytes below which LOW_IPV6_SHARE warns, 0 to 1 (default 0.7)')
    .option('--slow-fallback-ms <ms>', 'with --app/--app-uid: an IPv4 retry later than this after a failed IPv6 attempt is SLOW_FALLBACK (default 2000)')
    .option(
      '--max-memory <MiB>',
      'bound of the analysis state (flows, DNS queries, names), 16 to 1048576 (default 1024): past it new flows and queries are counted, not listed, and a warning says so',
    )
    .action(async (capture: string, options) => {
      const { analyzeCommand } = await import('./analyze.js');
      exitCode = await analyzeCommand(capture, options, process.stdout);
    });

  program
    .command('devices')
    .description('list the devices adb sees, with what v6lab learns of each (model, Android, root, tcpdump, addresses, NAT64, CLAT)')
    .option('--json', 'one JSON object')
    .action(async (options) => {
      const { devicesCommand } = await import('./devices.js');
      exitCode = await devicesCommand(options, process.stdout);
    });

  program
    .command('certify')
    .description('certify devices: the os, apn and apps suites through WebdriverIO and Appium, with packet captures; writes a report directory')
    .option('--devices <serials>', "adb serials, comma-separated (a lab handset uses the lab's record of it; another device a generic profile)")
    .addOption(new Option('--profile <file>', 'a device profile (repeatable)').argParser(collect))
    .option('--suite <suites>', 'which suites, comma-separated: os, apn, apps', 'os,apn,apps')
    .option('--apps <catalogue>', 'app catalogue (CONTRACTS.md section 6); default: the lab apps for lab handsets, else devices/catalogues/china-top10.json')
    .option('--out <dir>', 'the report directory (default reports/<date>)')
    .option('--dwell <ms>', 'how long each app runs when its catalogue entry says not', '5000')
    .option('--clear-data', "wipe each app's data before it runs (off: logins stay)")
    .option(
      '--app-runs <n>',
      "each app's window N times, a fresh launch each (1 to 20, default 1; on --resume, the run's): the share per run and its mean; the verdict uses every run",
    )
    .option(
      '--resume <dir>',
      'continue a run: checks with a result are not run again, except broken ones and those skipped NETWORK_UNAVAILABLE (their network was not reached)',
    )
    .option(
      '--network <network>',
      "certify one network in this run: ipv6 (the IPv6-only APN) or ipv4v6 (the dual-stack APN); the other network's checks are skipped NETWORK_UNAVAILABLE, and `--resume DIR --network OTHER` runs them",
    )
    .option('--switch-timeout <seconds>', 'how long a person has to switch the APN when asked (profiles with "apnSwitch": "manual"; default 600)')
    .option(
      '--min-ipv6-share <share>',
      "apps.ipv6-first: native IPv6 share of an app's bytes below which LOW_IPV6_SHARE warns, 0 to 1 (over each profile's policy; default 0.7)",
    )
    .option(
      '--slow-fallback-ms <ms>',
      "apps.ipv6-first: an IPv4 retry later than this after a failed IPv6 attempt is SLOW_FALLBACK (over each profile's policy; default 2000)",
    )
    .option('--lab', 'bring the virtual lab up (a compliant and a non-compliant handset), certify its handsets, bring it down')
    .option('--state-dir <dir>', 'the lab state directory (default $V6LAB_STATE_DIR or /run/v6lab)')
    .option('--quiet', 'no progress, only the summary')
    .option('--json', 'progress as JSON lines (result, progress and done events) for machines')
    .option(
      '--allow-skip <codes>',
      'skip reason codes to accept, comma-separated (e.g. NOT_INSTALLED): such skips are listed, and do not make the run incomplete (exit 4)',
    )
    .option('--lang <lang>', 'the language of the report and the summary: en or zh-CN (default: from LC_ALL, LC_MESSAGES or LANG)')
    .option('--lab-name <name>', 'where the run is made (the lab, the site): recorded in results.json and every report')
    .option('--tester <name>', 'who makes the run: recorded in results.json and every report')
    .option('--notes <text>', 'anything the reader of the report should know about the run: recorded in results.json and every report')
    .action(async (options) => {
      const { certifyCommand } = await import('./certify.js');
      exitCode = await certifyCommand(options, process.stdout);
    });

  program
    .command('report')
    .description(
      'rebuild the reports of a run directory: index.html, junit.xml and the Allure HTML; or merge several runs into one report; with --compare, exit 1 when a check regressed',
    )
    .argument('<dir>', 'a run directory (results.json)')
    .option('--compare <old-dir>', 'mark what regressed and what got fixed since another run')
    .option('--no-allure', 'skip the Allure HTML (it needs Java)')
    .option(
      '--merge <runs...>',
      "first make <dir> the merge of these run directories: every device of every run, the later run's result where two checked the same thing",
    )
    .option('--allow-skip <codes>', 'skip reason codes to accept in this report, comma-separated, on top of those the run recorded (a merge records them)')
    .option('--lang <lang>', 'the language of index.html and the PDF: en or zh-CN (default: from LC_ALL, LC_MESSAGES or LANG)')
    .option('--pdf', 'also print <dir>/report.pdf from index.html by headless Chromium (chromium, chromium-browser, google-chrome or $CHROME_PATH)')
    .option(
      '--history <prev-dir>',
      "carry a previous report directory's Allure history (<prev-dir>/allure-report/history) into this Allure report: trends build over build",
    )
    .option(
      '--verify',
      'write nothing: check every evidence file against the seal results.json took when the run finished; exit 1 naming each file changed, missing or added, 2 when there is no seal',
    )
    .option('--json', 'print one JSON object: the files written, the verdict, and with --compare the regressions, fixes, new and gone checks')
    .action(async (dir: string, options) => {
      const { reportCommand } = await import('./report.js');
      exitCode = await reportCommand(dir, options, process.stdout);
    });

  const gateway = program
    .command('gateway')
    .description('a v6lab network (IPv6-only with DNS64/NAT64, and the other scenarios) for real devices on a host interface');
  gateway
    .command('up')
    .description('move a host interface into a gateway namespace and serve a v6lab network on it')
    .option('--device-link <iface>', 'the host interface the device is on (USB Ethernet, a veth, a tap): given back at down')
    .option('--mode <mode>', 'ipv6-only, dual-stack, true-ipv6-only, ipv4-only or ipv6-mostly', 'ipv6-only')
    .option('--world <file>', 'the simulated internet behind the gateway (JSON); default: devices/lab/world.json')
    .option('--uplink <iface>', 'the real internet through this host interface instead of a world')
    .addOption(new Option('--dns <addr>', "with --uplink: a resolver the gateway's DNS64 forwards to (repeatable; default the host's)").argParser(collect))
    .option('--capture <file>', 'record the device link with tcpdump into FILE (a new file), or - for stdout')
    .option('--prefix <prefix>', 'the NAT64 prefix (RFC 6052 lengths)', '64:ff9b::/96')
    .option('--pref64', 'announce the NAT64 prefix in RAs (PREF64, RFC 8781)')
    .option('--force', 'take the interface even if it carries the host default route')
    .option('--id <id>', 'a short name for the gateway (1-6 of a-z0-9), part of its namespace names', 'gw')
    .option('--state-dir <dir>', 'where the gateway keeps its state (default $V6LAB_GATEWAY_STATE_DIR or /run/v6lab-gateway)')
    .action(async (options) => {
      const { gatewayUpCommand } = await import('./gateway.js');
      exitCode = await gatewayUpCommand(options, process.stdout);
    });
  gateway
    .command('status')
    .description('the device link, prefix, DNS64, NAT64 prefix and the clients seen')
    .option('--json', 'one JSON object')
    .option('--state-dir <dir>', 'the gateway state directory')
    .action(async (options) => {
      const { gatewayStatusCommand } = await import('./gateway.js');
      exitCode = await gatewayStatusCommand(options, process.stdout);
    });
  gateway
    .command('capture')
    .description("the device link's traffic as pcap on stdout until interrupted (v6lab gateway capture > device.pcap)")
    .option('--state-dir <dir>', 'the gateway state directory')
    .action(async (options) => {
      const { gatewayCaptureCommand } = await import('./gateway.js');
      exitCode = await gatewayCaptureCommand(options);
    });
  gateway
    .command('down')
    .description('give the device link back and remove everything the gateway started (idempotent, also after a crash)')
    .option('--state-dir <dir>', 'the gateway state directory')
    .action(async (options) => {
      const { gatewayDownCommand } = await import('./gateway.js');
      exitCode = await gatewayDownCommand(options, process.stdout);
    });

  const lab = program.command('lab').description('the virtual lab: an IPv6-only carrier network and virtual handsets that speak adb');
  lab
    .command('up')
    .description('start the virtual lab; prints SERIAL<TAB>NETWORK<TAB>PROFILE per handset')
    .option('--handsets <n>', 'how many virtual handsets', '1')
    .option('--apn <type>', 'the APN each handset attaches to at start: ipv6 (DNS64/NAT64), ipv6-true (no NAT64), ipv4v6 or ipv4', 'ipv6')
    .option('--world <file>', "the lab's internet (JSON); default: devices/lab/world.json")
    .option('--apps <dir>', 'emulated apps, one JSON file each; default: devices/lab/apps')
    .addOption(new Option('--profile <file>', 'handset profile (repeatable: one per handset, the last repeats)').argParser(collect))
    .option('--state-dir <dir>', 'where the lab keeps its state (default $V6LAB_STATE_DIR or /run/v6lab)')
    .option('--no-background', "no background traffic (the handsets' connectivity probe, NTP and push channel)")
    .addOption(new Option('--adb-key <file>', 'an adb host key the handsets accept besides $HOME/.android/adbkey (adbkey.pub; repeatable)').argParser(collect))
    .action(async (options) => {
      const { labUpCommand } = await import('./lab.js');
      exitCode = await labUpCommand(options, process.stdout);
    });
  lab
    .command('status')
    .description('show what the lab started and whether it is healthy')
    .option('--json', 'one JSON object')
    .option('--state-dir <dir>', 'the lab state directory')
    .action(async (options) => {
      const { labStatusCommand } = await import('./lab.js');
      exitCode = await labStatusCommand(options, process.stdout);
    });
  lab
    .command('unplug <serial>')
    .description("pull a handset's cable for a while: its adb connections drop and come back (a fault to test a run against)")
    .option('--for <ms>', 'how long the handset stays away, in milliseconds', '3000')
    .option('--state-dir <dir>', 'the lab state directory')
    .action(async (serial: string, options) => {
      const { labUnplugCommand } = await import('./lab.js');
      exitCode = await labUnplugCommand(serial, options, process.stdout);
    });
  lab
    .command('down')
    .description('remove everything the lab started (idempotent, also after a crash)')
    .option('--state-dir <dir>', 'the lab state directory')
    .action(async (options) => {
      const { labDownCommand } = await import('./lab.js');
      exitCode = await labDownCommand(options, process.stdout);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

/** One or two lines on stderr; the exit code says whether it was the input or the run. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  // A package or policy the user named that is not right: their input, exit 2.
  if (error instanceof PackageNotInstalledError || error instanceof PolicyError) {
    process.stderr.write(`v6lab: ${error.message}\n`);
    return EXIT.usage;
  }
  const err = error as NodeJS.ErrnoException;
  const name = err?.name;
  if (
    name === 'CaptureFormatError' ||
    name === 'AddressError' ||
    name === 'UsageError' ||
    name === 'DataFileError' ||
    name === 'LabInputError' ||
    name === 'GatewayInputError' ||
    name === 'ResultsFileError' ||
    name === 'AdbServerAddressError'
  ) {
    process.stderr.write(`v6lab: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err?.code === 'ENOSPC' || err?.code === 'EDQUOT' || err?.code === 'EROFS') {
    process.stderr.write(
      `v6lab: cannot write ${err.path ?? 'a file'}: ${err.code === 'EROFS' ? 'read-only file system' : 'no space left on device'} (${err.code}); nothing written is half-done: make room and run again (a certify run goes on with --resume DIR)\n`,
    );
    return EXIT.cannotRun;
  }
  if (err?.code === 'ENOENT' || err?.code === 'EACCES' || err?.code === 'EISDIR') {
    process.stderr.write(
      `v6lab: ${err.path ?? ''}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory, not a capture' : 'permission denied'}\n`,
    );
    return EXIT.usage;
  }
  if (
    name === 'NeedsRootError' ||
    name === 'ResultsWriteError' ||
    name === 'AdbServerUnreachableError' ||
    name === 'AllureError' ||
    name === 'PdfError' ||
    name === 'DeviceNotFoundError' ||
    name === 'DeviceUnavailableError' ||
    name === 'LabStepError' ||
    name === 'LabAlreadyUpError' ||
    name === 'LabCommandError' ||
    name === 'LabStateError'
  ) {
    process.stderr.write(`v6lab: ${err.message}\n`);
    return EXIT.cannotRun;
  }
  process.stderr.write(`v6lab: ${err?.stack ?? String(error)}\n`);
  return EXIT.cannotRun;
}
