import { join } from 'node:path';
import { readJsonFile, writeFileDurably } from '../util/durable-file.js';

/** A founding member, as the founder announced it. */
export interface Founder {
  readonly id: string;
  readonly name: string;
  readonly address: string;
}

/**
 * What a cluster node keeps beside its Raft data: the cluster it belongs to
 * and, for the founding members, how the cluster was founded. Written before
 * anything of the cluster is stored, so a restart knows whether it must still
 * found its replicas (`bootstrapped` turns true once they are durable).
 */
export interface ClusterFile {
  readonly cluster_id: string;
  readonly founders?: readonly Founder[];
  readonly bootstrapped?: boolean;
  /** The node was drained and removed: it serves nothing until its data directory is wiped. */
  readonly removed?: boolean;
}

export function clusterFilePath(dataDir: string): string {
  return join(dataDir, 'cluster.json');
}

export function readClusterFile(dataDir: string): ClusterFile | undefined {
  const path = clusterFilePath(dataDir);
  const value = readJsonFile(path) as ClusterFile | undefined;
  if (value !== undefined && typeof value.cluster_id !== 'string')
    throw new Error(`${path} has no cluster_id`);
  return value;
}

export function writeClusterFile(dataDir: string, file: ClusterFile): void {
  writeFileDurably(clusterFilePath(dataDir), `${JSON.stringify(file, null, 2)}\n`);
}
