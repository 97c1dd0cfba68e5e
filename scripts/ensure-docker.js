// The image test (e2e/test/deploy-image.spec.ts) builds and runs the
// Dockerfile, so it needs a Docker daemon. When `docker info` already answers,
// this does nothing. Otherwise, as root on a Debian-like system, it installs
// Debian's docker.io when dockerd is missing and starts dockerd in the
// background (it keeps running afterwards; its log is in the temp directory).
// When no daemon can be had it exits 1 saying why: the image test then fails,
// it never skips.
//
// A daemon started here has no bridge network and touches no iptables rules:
// the project's builds and containers use the host's network only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const log = join(tmpdir(), 'fastpaca-dockerd.log');

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function daemonAnswers() {
  if (!has('docker')) return false;
  return (
    spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 15_000 })
      .status === 0
  );
}

function fail(message) {
  console.error(`ensure-docker: ${message}`);
  process.exit(1);
}

function dockerdRunning() {
  try {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    if (!pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

if (!daemonAnswers()) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!has('dockerd')) {
    if (!root || !existsSync('/usr/bin/apt-get'))
      fail(
        'no Docker daemon answers and dockerd is not installed: install Docker (Debian: apt-get install docker.io)',
      );
    console.error('ensure-docker: installing Debian’s docker.io for the image test');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'docker.io'], { stdio: 'inherit', env });
    if (install.status !== 0 || !has('dockerd')) fail('installing docker.io failed');
  }
  if (!dockerdRunning()) {
    if (!root) fail('no Docker daemon answers and starting dockerd needs root');
    console.error(`ensure-docker: starting dockerd (log: ${log})`);
    const out = openSync(log, 'a');
    const child = spawn('dockerd', ['--bridge=none', '--iptables=false'], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.unref();
  }
  const deadline = Date.now() + 60_000;
  while (!daemonAnswers()) {
    if (Date.now() > deadline) {
      let tail = '';
      try {
        tail = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
      } catch {}
      fail(`dockerd did not answer within 60 s. Last lines of ${log}:\n${tail}`);
    }
    sleep(500);
  }
}
const version = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
console.log(`ensure-docker: Docker daemon ${version.stdout.trim()} answers`);
