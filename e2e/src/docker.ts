import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Helpers for the image test: the Docker CLI, and a base image made from this
 * machine's own Node.js (base images cannot be pulled here, so the Dockerfile's
 * BASE_IMAGE is substituted).
 */

export const repoRoot = join(import.meta.dirname, '..', '..');

/** Runs `docker …` and returns its stdout; throws with stderr on failure. */
export function docker(
  args: string[],
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): string {
  const result = spawnSync('docker', args, {
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 120_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `docker ${args.join(' ')} exited with ${result.status}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/**
 * Runs a command without blocking the event loop (a build takes minutes, and
 * the test runner's worker must keep answering meanwhile); resolves with its
 * stdout, rejects with its output on failure or after the timeout.
 */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; stdin?: NodeJS.ReadableStream } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    if (options.stdin && child.stdin) options.stdin.pipe(child.stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else {
        const tail = `${stderr}${stdout}`.slice(-8_000);
        reject(new Error(`${command} ${args.join(' ')} ended with ${signal ?? code}:\n${tail}`));
      }
    });
  });
}

/** `docker …` whose failure is ignored (clean-up). */
export function dockerQuiet(args: string[]): void {
  spawnSync('docker', args, { stdio: 'ignore', timeout: 60_000 });
}

/**
 * Makes sure a Docker daemon answers (installing and starting one as root on
 * Debian if needed); throws with the reason otherwise.
 */
export async function ensureDocker(): Promise<void> {
  try {
    await run(process.execPath, [join(repoRoot, 'scripts', 'ensure-docker.js')], { timeoutMs: 600_000 });
  } catch (error) {
    throw new Error(`no Docker daemon for the image test: ${(error as Error).message}`);
  }
}

/** Shared libraries a binary loads (and its ELF interpreter), as `ldd` lists them. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const resolved = line.match(/=>\s+(\/\S+)/);
    const direct = line.match(/^\s+(\/\S+)\s+\(/);
    const path = resolved?.[1] ?? direct?.[1];
    if (path) libs.push(path);
  }
  return libs;
}

function which(command: string): string {
  const out = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${command} is not on this machine's PATH`);
  return out.stdout.trim();
}

/** Copies a file to the same path under `root`, following symlinks. */
function place(root: string, source: string, target = source): void {
  const to = join(root, target);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(realpathSync(source), to, { dereference: true });
}

/**
 * A minimal Debian-like image with this machine's `node` and `npm` in
 * /usr/local (where the official node images have them), a POSIX shell and
 * the few tools the Dockerfile and npm use, their shared libraries, and a
 * `node` user with uid 1000. Tagged by the Node and npm versions, so a second
 * run reuses it and Docker's layer cache stays warm; it is left in place on
 * purpose (remove it with `docker rmi`).
 */
export async function buildTestBaseImage(): Promise<string> {
  // Outside the workspace: npm's config commands refuse to run in one.
  const npm = (...args: string[]) => execFileSync('npm', args, { encoding: 'utf8', cwd: tmpdir() }).trim();
  const npmVersion = npm('--version');
  const cafile = npm('config', 'get', 'cafile');
  const ca = cafile && cafile !== 'null' && cafile !== 'undefined' && existsSync(cafile) ? cafile : undefined;
  const registry = npm('config', 'get', 'registry');
  const recipe = createHash('sha256')
    .update(readFileSync(new URL(import.meta.url)))
    .update(registry)
    .update(ca ? readFileSync(ca) : '')
    .digest('hex')
    .slice(0, 12);
  const tag = `fastpaca-test-base:node${process.versions.node}-npm${npmVersion}-${recipe}`;
  if (spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0) return tag;

  const root = mkdtempSync(join(tmpdir(), 'fastpaca-base-'));
  try {
    const nodeBinary = realpathSync(process.execPath);
    place(root, nodeBinary, '/usr/local/bin/node');
    const npmRoot = npm('root', '-g');
    cpSync(join(npmRoot, 'npm'), join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
    execFileSync('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm')]);
    execFileSync('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx')]);

    // sh runs RUN lines and npm scripts; env runs `#!/usr/bin/env node` bins.
    const tools: Record<string, string> = { sh: '/bin/sh' };
    for (const tool of ['env', 'mkdir', 'chown', 'chmod', 'rm', 'cp', 'mv', 'ln', 'ls', 'cat', 'id']) {
      tools[tool] = `/usr/bin/${tool}`;
    }
    const binaries = [nodeBinary];
    for (const [name, target] of Object.entries(tools)) {
      const source = which(name);
      place(root, source, target);
      binaries.push(realpathSync(source));
    }
    for (const lib of new Set(binaries.flatMap(sharedLibraries))) place(root, lib);

    // npm in the image trusts what npm here trusts (a registry reached through
    // a TLS-inspecting proxy needs its certificate authority).
    if (ca) {
      place(root, ca, '/usr/local/share/fastpaca-test/ca.crt');
      mkdirSync(join(root, 'usr/local/etc'), { recursive: true });
      writeFileSync(join(root, 'usr/local/etc/npmrc'), 'cafile=/usr/local/share/fastpaca-test/ca.crt\n');
    }

    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    );
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
    for (const dir of ['root', 'home/node', 'tmp', 'var/tmp', 'proc', 'sys', 'dev']) {
      mkdirSync(join(root, dir), { recursive: true });
    }
    chmodSync(join(root, 'tmp'), 0o1777);
    chmodSync(join(root, 'var/tmp'), 0o1777);
    chownSync(join(root, 'home/node'), 1000, 1000);

    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await run(
      'docker',
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        `ENV npm_config_registry=${registry}`,
        '--change',
        'CMD ["node"]',
        '-',
        tag,
      ],
      { stdin: tar.stdout, timeoutMs: 300_000 },
    );
    return tag;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Removes base images of earlier recipes that nothing uses any more (after their builds were replaced). */
export function pruneOldBaseImages(current: string): void {
  const keep = docker(['image', 'inspect', '--format', '{{.Id}}', current]).trim();
  const repository = current.slice(0, current.lastIndexOf(':'));
  const ids = docker(['images', '--quiet', '--no-trunc', repository])
    .split('\n')
    .filter((id) => id !== '' && id !== keep);
  for (const id of new Set(ids)) dockerQuiet(['rmi', id]);
}
