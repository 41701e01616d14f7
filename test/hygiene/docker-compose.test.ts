import fs from 'node:fs';
import path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../cli/temporal/dev-server';
import { envSchema, loadConfig, workerDatabaseUrl } from '../../config';
import { TOUR_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks what would break it silently:
 * unknown variables, a config that would not load, wrong dependencies and drifting search attributes.
 */

const repo = path.resolve(__dirname, '..', '..');
const composeText = fs.readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8');
const dockerfile = fs.readFileSync(path.join(repo, 'Dockerfile'), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: string[];
  healthcheck?: { test?: string | string[] };
}
const compose = parse(composeText) as { services: Record<string, Service> };
const services = compose.services;
const TOURHUB = ['migrate', 'api', 'worker'] as const;

/** The env keys the app knows. zod 4's superRefine keeps the ZodObject (no wrapper), so `.shape` is on it directly. */
function schemaKeys(): string[] {
  const schema = envSchema as unknown as { shape?: Record<string, unknown>; innerType?: () => { shape: Record<string, unknown> } };
  const shape = schema.shape ?? schema.innerType?.().shape;
  if (!shape) throw new Error('cannot read the keys of envSchema');
  return Object.keys(shape);
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const i = entry.indexOf('=');
      out[i < 0 ? entry : entry.slice(0, i)] = i < 0 ? '' : entry.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(env)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

const DUMMY = 'dummy-value-for-compose-tests-0123456789abcdef';

/** Compose interpolation, as `docker compose config` would do it with only the required variables set. */
function interpolate(value: string): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?\?[^}]*)\}/g, () => DUMMY)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}/g, (_m, _name: string, fallback: string) => fallback)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, () => DUMMY)
    .replace(/\$\$/g, '$');
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d?.condition]));
}

function publishedPorts(service: Service): string[] {
  return (service.ports ?? []).map((p) => (typeof p === 'object' ? `${p.published}:${p.target}` : String(p)).replace(/^(\d+\.\d+\.\d+\.\d+:)/, ''));
}

/** The host address each port is published on: an entry without one is published on every interface. */
function publishedOn(service: Service): string[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return (p as { host_ip?: string }).host_ip ?? '0.0.0.0';
    return /^(\d+\.\d+\.\d+\.\d+):\d+:\d+$/.exec(String(p))?.[1] ?? '0.0.0.0';
  });
}

describe('docker-compose.yml', () => {
  it('is valid YAML without duplicate keys', () => {
    const doc = parseDocument(composeText, { uniqueKeys: true });
    expect(doc.errors).toEqual([]);
  });

  it('has Postgres, Temporal with its UI and setup, migrate, api and worker', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'temporal-setup', 'migrate', 'api', 'worker']) {
      expect(services).toHaveProperty(name);
    }
    expect(services.postgres?.image).toMatch(/^postgres:16/);
    expect(services.temporal?.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services['temporal-setup']?.image).toMatch(/^temporalio\/admin-tools:/);
  });

  it('builds api, worker and migrate from the Dockerfile and runs the matching tourhub command', () => {
    for (const name of TOURHUB) {
      const build = services[name]?.build;
      const spec = typeof build === 'string' ? { context: build, dockerfile: 'Dockerfile' } : build;
      expect(spec).toBeDefined();
      expect(path.resolve(repo, spec?.context ?? '.')).toBe(repo);
      expect(spec?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
      expect(services[name]?.command).toEqual([name]);
    }
  });

  it('gives api, worker and migrate only variables that config/index.ts knows', () => {
    const known = new Set(schemaKeys());
    expect(known.size).toBeGreaterThan(10);
    for (const name of TOURHUB) {
      const unknown = Object.keys(environment(services[name]!)).filter((k) => !known.has(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('sets a production environment that loadConfig accepts', () => {
    for (const name of TOURHUB) {
      const raw = environment(services[name]!);
      expect(raw.TOURHUB_ENV).toBe('production');
      expect(raw.TEMPORAL_ADDRESS).toBe('temporal:7233');
      // Secrets come from the environment of `docker compose`, never from this file.
      expect(raw.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
      const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v)]));
      const config = loadConfig(env);
      expect(config.env).toBe('production');
      expect(config.jwt.secret).toBe(DUMMY);
      expect(config.database.url).toMatch(/^postgres:\/\/tourhub:[^@]+@postgres:5432\/tourhub$/);
      // The worker's least-privileged role, with a password of the deployment's own.
      expect(workerDatabaseUrl(config)).toBe(`postgres://tourhub_worker:${DUMMY}@postgres:5432/tourhub`);
      expect(config.database.appPassword).toBe(DUMMY);
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.codec.uiOrigins).toEqual(['http://localhost:8233']);
    }
    expect(environment(services.api!).HOST).toBe('0.0.0.0');
  });

  it('would refuse to start on a development default, so it gives no secret a default', () => {
    for (const name of TOURHUB) {
      const raw = environment(services[name]!);
      for (const variable of ['DATABASE_APP_PASSWORD', 'DATABASE_WORKER_PASSWORD', 'JWT_SECRET', 'TOURHUB_SECRET_KEYS']) {
        expect({ variable, value: raw[variable] }).toEqual({ variable, value: expect.stringMatching(new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`)) });
      }
      expect(raw.DATABASE_URL).toContain('${POSTGRES_PASSWORD:?');
      // What the compose file used to default to is a development default in production.
      const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v)]));
      expect(() => loadConfig({ ...env, DATABASE_APP_PASSWORD: 'tourhub-app-dev-only-password' })).toThrow(/DATABASE_APP_PASSWORD/);
    }
    expect(environment(services.postgres!).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
    expect(environment(services.temporal!).POSTGRES_PWD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
  });

  it('publishes the API on 3000, and Temporal (gRPC 7233, Web UI 8233) on 127.0.0.1 only', () => {
    expect(publishedPorts(services.api!)).toContain('3000:3000');
    expect(publishedPorts(services['temporal-ui']!)).toContain('8233:8080');
    expect(publishedPorts(services.temporal!)).toContain('7233:7233');
    expect(publishedOn(services.temporal!)).toEqual(['127.0.0.1']);
    expect(publishedOn(services['temporal-ui']!)).toEqual(['127.0.0.1']);
    // Nothing but the API is reachable from other machines; Postgres is not published at all.
    const everyInterface = Object.entries(services).filter(([, s]) => publishedOn(s).some((ip) => ip !== '127.0.0.1')).map(([name]) => name);
    expect(everyInterface).toEqual(['api']);
    expect(services.postgres?.ports).toBeUndefined();
    expect(environment(services['temporal-ui']!).TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it("points the Web UI at the API's codec endpoint, sending the codec session cookie", () => {
    const ui = environment(services['temporal-ui']!);
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    expect(environment(services.api!).TEMPORAL_UI_ORIGIN).toBe('http://localhost:8233');
  });

  it('starts things in the right order', () => {
    expect(services.postgres?.healthcheck?.test).toEqual(expect.arrayContaining([expect.stringContaining('pg_isready')]));
    expect(services.temporal?.healthcheck?.test).toBeDefined();
    expect(dependsOn(services.temporal!)).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn(services['temporal-setup']!)).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(services['temporal-ui']!)).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(services.migrate!)).toEqual({ postgres: 'service_healthy' });
    for (const name of ['api', 'worker']) {
      expect(dependsOn(services[name]!)).toEqual({
        migrate: 'service_completed_successfully',
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
      });
    }
  });

  it('runs Temporal on the same Postgres in its own databases, with the update APIs switched on', () => {
    const env = environment(services.temporal!);
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgres');
    expect(env.DBNAME).toBeTruthy();
    expect(env.DBNAME).not.toBe('tourhub');
    expect(env.VISIBILITY_DBNAME).toBeTruthy();
    expect(env.VISIBILITY_DBNAME).not.toBe('tourhub');

    const mount = services.temporal?.volumes?.find((v) => v.startsWith('./deploy/temporal/dynamicconfig.yaml:'));
    expect(mount).toBeDefined();
    const target = mount!.split(':')[1]!;
    expect(target).toBe(path.posix.join('/etc/temporal', env.DYNAMIC_CONFIG_FILE_PATH ?? ''));

    const dynamic = parse(fs.readFileSync(path.join(repo, 'deploy/temporal/dynamicconfig.yaml'), 'utf8')) as Record<string, { value: unknown }[]>;
    // The dev server's switches (cli/temporal/dev-server.ts), and the fairness backlog migration older servers need.
    const devSwitches = DEV_SERVER_DYNAMIC_CONFIG.map((v) => v.split('=')[0]!);
    for (const key of [...devSwitches, 'matching.enableMigration']) {
      expect({ key, value: dynamic[key]?.[0]?.value }).toEqual({ key, value: true });
    }
  });

  it('registers exactly TOUR_SEARCH_ATTRIBUTES with temporal operator search-attribute create', () => {
    const setup = services['temporal-setup']!;
    const listed = (environment(setup).TOUR_SEARCH_ATTRIBUTES ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [name, type] = pair.split('=');
        return { name, type };
      });
    expect(listed).toEqual(TOUR_SEARCH_ATTRIBUTES.map((s) => ({ name: s.name, type: s.type })));
    const script = [setup.entrypoint, setup.command].flat().join('\n');
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toContain('$$TOUR_SEARCH_ATTRIBUTES');
  });

  it('hard-codes no secret and gives none a default', () => {
    const literalPasswords = composeText.match(/^\s*[A-Z_]*(PASSWORD|PWD|SECRET|_KEY)[A-Z_]*:[ \t]+[^\s$#][^\n]*/gm) ?? [];
    expect(literalPasswords).toEqual([]);
    const defaults = [...composeText.matchAll(/\$\{([A-Z_]+):?-([^}]*)\}/g)].filter(([, name]) => /PASSWORD|PWD|SECRET|KEY/.test(name!));
    expect(defaults.map(([whole]) => whole)).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.reduce<string[][]>((acc, line) => {
    if (/^FROM\s/i.test(line)) acc.push([line]);
    else acc[acc.length - 1]?.push(line);
    return acc;
  }, []);
  const runtime = stages[stages.length - 1] ?? [];

  it('builds on node:20-bookworm-slim in stages: npm ci + npm run build, then production dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(lines).toContain('RUN npm run build');
    expect(lines.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev'))).toBe(true);
    expect(lines.some((l) => /^RUN \(?npm ci\b.*--omit=dev/.test(l))).toBe(true);
  });

  it('runs with TOURHUB_ENV=production, which refuses development defaults', () => {
    const env = runtime.filter((l) => l.startsWith('ENV ')).join(' ');
    expect(env).toMatch(/\bTOURHUB_ENV=production\b/);
  });

  it('runs dist/cli/main.js as a non-root user', () => {
    const entrypoint = runtime.find((l) => l.startsWith('ENTRYPOINT'));
    expect(JSON.parse(entrypoint!.slice('ENTRYPOINT'.length))).toEqual(['node', 'dist/cli/main.js']);
    const user = runtime.filter((l) => l.startsWith('USER')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/);
    expect(runtime.some((l) => /^COPY --from=\S+ \/app\/dist /.test(l))).toBe(true);
  });

  it('sets only variables config/index.ts knows (plus NODE_ENV)', () => {
    const known = new Set([...schemaKeys(), 'NODE_ENV']);
    const set = lines
      .filter((l) => l.startsWith('ENV '))
      .flatMap((l) => [...l.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!));
    expect(set.filter((k) => !known.has(k))).toEqual([]);
  });

  it('.dockerignore keeps dependencies, build output, local tools and data out of the context', () => {
    const ignored = fs.readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.tools', '.tourhub', '.git', '.env']) expect(ignored).toContain(entry);
  });
});
