import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const handles = (globalThis as Record<string, unknown>).__tourhubTest as
    | { pg: { stop(): Promise<void> }; server: { stop(): Promise<void> }; root: string }
    | undefined;
  if (!handles) return;
  await Promise.allSettled([handles.server.stop(), handles.pg.stop()]);
  fs.rmSync(handles.root, { recursive: true, force: true });
}
