import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import type { Config } from './config';
import type { Db } from './db/knex';

export interface WorkerDeps {
  config: Config;
  /** Owner connection: the worker writes progress for every organisation. */
  db: Db;
  connection: NativeConnection;
  /** A prebuilt bundle (tests, images); without one the worker bundles workflows/ at start-up. */
  workflowBundle?: { codePath: string } | { code: string };
}

/** The only place that wires workflows, activities and their dependencies together. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = deps.workflowBundle
    ? { workflowBundle: deps.workflowBundle }
    : { workflowsPath: require.resolve(path.join(__dirname, 'workflows')) };
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    ...workflows,
    activities: createActivities({ db: deps.db }),
  });
}

let runtimeInstalled = false;

/** Quiet the Rust core's own logs unless asked; our pino logs say what matters. */
export function installRuntime(logLevel: Config['logLevel']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = logLevel === 'debug' || logLevel === 'trace' ? 'DEBUG' : 'WARN';
  // Signals are ours: cli/runtime.ts stops the API, the worker, Temporal and Postgres in order.
  Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: [] });
}
