import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { INCARNATION_SEPARATOR } from '../replication/replica-id.js';
import { readJsonFile, writeFileDurably } from '../util/durable-file.js';

/**
 * Who this node is. `name` is the human-readable name (logs, metrics, the
 * cluster view); `id` is what Raft and the node link know it by. A single
 * node's id is its name. A cluster node's id adds an incarnation, drawn when
 * its data directory is created: a node whose disk was wiped comes back as a
 * new node under its old name, so it can never be taken for the replicas,
 * votes and acknowledgements its old disk held.
 */
export interface NodeIdentity {
  readonly name: string;
  readonly id: string;
}

interface NodeFile {
  name?: string;
  incarnation?: string;
}

/**
 * The identity persisted in the data directory, created on first start. The
 * name must not change afterwards; a single node's data directory cannot start
 * as a cluster node or the other way round (their replicas are named apart).
 */
export function resolveNodeIdentity(
  dataDir: string,
  configured: string | undefined,
  clustered: boolean,
): NodeIdentity {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'node.json');
  const persisted = readJsonFile(file) as NodeFile | undefined;
  if (persisted?.name !== undefined) {
    const { name, incarnation } = persisted;
    if (configured !== undefined && configured !== name) {
      throw new Error(
        `FASTPACA_NODE_NAME is "${configured}" but the data directory ${dataDir} belongs to node "${name}"; ` +
          'use the same name or a fresh FASTPACA_RAFT_DATA_DIR',
      );
    }
    if (incarnation !== undefined && !clustered) {
      throw new Error(
        `the data directory ${dataDir} belongs to cluster node "${name}"; start it with FASTPACA_CLUSTER_SEED, ` +
          'or use a fresh FASTPACA_RAFT_DATA_DIR for a single node',
      );
    }
    if (incarnation === undefined && clustered) {
      if (holdsRaftData(dataDir)) {
        throw new Error(
          `the data directory ${dataDir} holds single node "${name}"'s data, which cannot join a cluster; ` +
            'start it without FASTPACA_CLUSTER_SEED, or use a fresh FASTPACA_RAFT_DATA_DIR',
        );
      }
      return write(file, name, newIncarnation());
    }
    return identity(name, incarnation);
  }
  return write(file, configured ?? randomUUID(), clustered ? newIncarnation() : undefined);
}

function holdsRaftData(dataDir: string): boolean {
  const raft = join(dataDir, 'raft');
  return existsSync(raft) && readdirSync(raft).length > 0;
}

function newIncarnation(): string {
  return randomBytes(6).toString('hex');
}

function write(file: string, name: string, incarnation: string | undefined): NodeIdentity {
  const content: NodeFile = incarnation === undefined ? { name } : { name, incarnation };
  writeFileDurably(file, `${JSON.stringify(content, null, 2)}\n`);
  return identity(name, incarnation);
}

function identity(name: string, incarnation: string | undefined): NodeIdentity {
  return { name, id: incarnation === undefined ? name : `${name}${INCARNATION_SEPARATOR}${incarnation}` };
}
