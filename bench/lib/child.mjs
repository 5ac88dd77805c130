// Runs a bench child process and returns the JSON it reports. A child prints
// its result as one line starting with RESULT_MARKER (anything else it, or
// the library, writes to the console is kept only for error messages).
import { spawn } from 'node:child_process';

export const RESULT_MARKER = '@@bench-result ';

export function report(result) {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

export function runChild(script, args = [], { nodeArgs = [], timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) {
        reject(new Error(`${script} exited with ${signal || code}${line ? '' : ' without a result'}\n${err.slice(-4000)}${out.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)));
    });
  });
}
