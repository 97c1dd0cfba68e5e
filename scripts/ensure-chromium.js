// The browser tests drive Debian's chromium through playwright-core (browsers
// are not downloaded through npm). Run before the tests: when no chromium is
// there and this is root on a Debian-like system, install it; otherwise say
// loudly what is missing (the browser tests then fail naming it, never skip).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.FASTPACA_CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = existsSync('/usr/bin/apt-get');
  if (root && apt && path === '/usr/bin/chromium') {
    console.error('no chromium at /usr/bin/chromium: installing Debian’s chromium for the browser tests');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    if (install.status !== 0) console.error('installing chromium failed: the browser tests will fail');
  } else {
    console.error(
      `no chromium at ${path}: the browser tests will fail. Install Debian's chromium ` +
        '(apt-get install -y chromium) or set FASTPACA_CHROMIUM_PATH.',
    );
  }
}
