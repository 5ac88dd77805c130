// Static file serving of the reference backend: the demo page from
// <root>/web/demo at "/" and the build output from <root>/web/dist at "/dist/",
// plus any extra mounts given as staticDirs (an app built against the package,
// say). Paths are decoded, normalised and checked to stay inside their directory.
import fs from 'node:fs';
import path from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8', // also covers .d.ts
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(filePath) {
  return MIME[path.extname(filePath).toLowerCase()] || 'application/octet-stream';
}

function sendText(res, status, text, extra = {}) {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

// staticDirs ({ '/app': dir, '/': dir }) as [prefix without trailing slash,
// absolute dir] pairs, longest prefix first, so the most specific mount wins.
export function staticMounts(staticDirs) {
  if (staticDirs === null || typeof staticDirs !== 'object' || Array.isArray(staticDirs)) {
    throw new TypeError('staticDirs must be an object of URL path prefix -> directory');
  }
  return Object.entries(staticDirs).map(([prefix, dir]) => {
    if (!prefix.startsWith('/') || typeof dir !== 'string' || dir === '') {
      throw new TypeError(`staticDirs: '${prefix}' must start with / and name a directory`);
    }
    return [prefix.replace(/\/+$/, ''), path.resolve(dir)];
  }).sort((a, b) => b[0].length - a[0].length);
}

// Maps a URL pathname to a file inside one of the served directories, or null.
// `mounts` (from staticMounts) are tried before /dist/ and the demo.
export function resolveStaticPath(staticRoot, pathname, mounts = []) {
  let mountDir;
  let rest;
  const mount = mounts.find(([prefix]) => prefix === '' || pathname === prefix || pathname.startsWith(prefix + '/'));
  if (mount) {
    mountDir = mount[1];
    rest = pathname.slice(mount[0].length);
  } else if (pathname === '/dist' || pathname.startsWith('/dist/')) {
    mountDir = path.join(staticRoot, 'web', 'dist');
    rest = pathname.slice('/dist'.length);
  } else {
    mountDir = path.join(staticRoot, 'web', 'demo');
    rest = pathname;
  }
  let decoded;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded === '' || decoded.endsWith('/')) decoded += 'index.html';
  const base = path.resolve(mountDir);
  const full = path.resolve(base, '.' + path.posix.normalize('/' + decoded));
  if (!full.startsWith(base + path.sep)) return null;
  return full;
}

export async function serveStatic(req, res, staticRoot, pathname, mounts = []) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const file = resolveStaticPath(staticRoot, pathname, mounts);
  let stat = null;
  if (file) {
    try {
      stat = await fs.promises.stat(file);
    } catch {
      stat = null;
    }
  }
  if (!stat || !stat.isFile()) {
    sendText(res, 404, 'Not found\n');
    return;
  }
  const type = mimeType(file);
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': stat.size,
    'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
