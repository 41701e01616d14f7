type Command = { run(argv: string[]): Promise<number> };

// require, not import(): under tsx's CommonJS hook a dynamic import() would bypass the TypeScript loader.
// Commands load lazily so `tourhub token` does not pay for the worker's start-up.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (path: string) => Promise.resolve(require(path) as Command);

const COMMANDS: Record<string, { describe: string; load: () => Promise<Command> }> = {
  dev: { describe: 'start Postgres, Temporal, the worker and the API on this machine', load: () => load('./commands/dev') },
  api: { describe: 'run the HTTP API', load: () => load('./commands/api') },
  worker: { describe: 'run the Temporal worker', load: () => load('./commands/worker') },
  migrate: { describe: 'apply database migrations (--status, --down-all)', load: () => load('./commands/migrate') },
  seed: { describe: 'create the demo organisation and tours', load: () => load('./commands/seed') },
  token: { describe: 'print a development JWT (making the user a member outside production)', load: () => load('./commands/token') },
  org: { describe: 'create an organisation and its first admin (org create --name N --admin-user UUID)', load: () => load('./commands/org') },
  replay: { describe: 're-send dead deliveries (--delivery <id> | --integration <id> [--status dead])', load: () => load('./commands/replay') },
  'webhook-secret': { describe: "make (rotate) an organisation's tour-event signing secret", load: () => load('./commands/webhook-secret') },
  'rotate-key': { describe: 're-encrypt integration credentials with the active key', load: () => load('./commands/rotate-key') },
  'temporal-path': { describe: 'print (installing if needed) the Temporal CLI path', load: () => load('./commands/temporal-path') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ['Usage: tourhub <command> [options]', '', ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.describe}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tourhub: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
