/**
 * Preloaded into a process (`NODE_OPTIONS=--import <this file>`) to record a
 * V8 CPU profile and write it to `$CPU_PROFILE_DIR`, where `--cpu-prof`
 * cannot be passed (it is refused in NODE_OPTIONS).
 *
 * By default the profile covers the process's whole life and is written on
 * exit. With `CPU_PROFILE_ON_SIGNAL=1` nothing is recorded until SIGUSR2; the
 * next SIGUSR2 stops and writes `server-<pid>-<n>.cpuprofile`, so a benchmark
 * can profile exactly its measured windows. `CPU_PROFILE_INTERVAL_US` sets the
 * sampling interval (default 200 µs).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // Microseconds between samples; a longer interval disturbs a busy server less.
  session.post('Profiler.setSamplingInterval', {
    interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 200),
  });
  if (process.env.CPU_PROFILE_ON_SIGNAL === '1') {
    let recording = false;
    let written = 0;
    process.on('SIGUSR2', () => {
      if (!recording) {
        recording = true;
        session.post('Profiler.start');
        return;
      }
      recording = false;
      session.post('Profiler.stop', (error, result) => {
        if (!error)
          writeFileSync(
            join(dir, `server-${process.pid}-${++written}.cpuprofile`),
            JSON.stringify(result.profile),
          );
      });
    });
  } else {
    session.post('Profiler.start');
    process.on('exit', () => {
      // The in-process inspector session answers synchronously, so this completes before exit.
      session.post('Profiler.stop', (error, result) => {
        if (!error)
          writeFileSync(join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      });
    });
  }
}
