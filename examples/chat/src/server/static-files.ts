import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built UI. Hashed assets are cached for good; every other path
 * falls back to `index.html` (the app reads its chat id from the URL).
 */
export function staticFiles(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const root = normalize(dir + sep);
  const index = join(root, 'index.html');
  if (!existsSync(index))
    throw new Error(`no built UI in ${dir}: run "npm run -w @fastpaca/example-chat build" first`);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path));
    const found = file.startsWith(root) && existsSync(file) && statSync(file).isFile();
    const served = found ? file : index;
    res.writeHead(200, {
      'content-type': types[extname(served)] ?? 'application/octet-stream',
      'cache-control':
        found && path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(served).pipe(res);
  };
}
