import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A node's name is part of its Raft identity (votes and logs are recorded
 * under it), so it is persisted in the data directory on first start and must
 * not change afterwards.
 */
export function resolveNodeName(dataDir: string, configured: string | undefined): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'node.json');
  let persisted: string | undefined;
  try {
    persisted = (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`);
    }
  }
  if (persisted !== undefined) {
    if (configured !== undefined && configured !== persisted) {
      throw new Error(
        `FASTPACA_NODE_NAME is "${configured}" but the data directory ${dataDir} belongs to node "${persisted}"; ` +
          'use the same name or a fresh FASTPACA_RAFT_DATA_DIR',
      );
    }
    return persisted;
  }
  const name = configured ?? randomUUID();
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify({ name }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return name;
}
