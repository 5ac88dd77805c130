// Shrinks a browser screenshot for the README: re-encodes a truecolor PNG as an
// 8-bit palette PNG (the 256 most frequent colours; any other colour maps to the
// nearest of them). UI screenshots have few colours, so this is near-lossless and
// about a third of the size. No dependencies beyond node:zlib.
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let crc = 0xffffffff;
  for (const byte of buf) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG into { width, height, channels, pixels }. */
function decode(png) {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let offset = 8;
  let header = null;
  const data = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], colour: body[9], interlace: body[12] };
    } else if (type === 'IDAT') {
      data.push(body);
    }
    offset += 12 + length;
  }
  if (!header || header.depth !== 8 || ![2, 6].includes(header.colour) || header.interlace !== 0) {
    throw new Error('only 8-bit RGB/RGBA non-interlaced PNGs are supported');
  }
  const channels = header.colour === 6 ? 4 : 3;
  const stride = header.width * channels;
  const raw = zlib.inflateSync(Buffer.concat(data));
  const pixels = Buffer.alloc(header.height * stride);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= channels ? prev[i - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = (row[i] + predictor) & 0xff;
    }
  }
  return { width: header.width, height: header.height, channels, pixels };
}

/** Returns a palette PNG of the same picture (alpha is dropped: screenshots are opaque). */
export function toPalettePng(png) {
  const { width, height, channels, pixels } = decode(png);
  const rgbAt = (i) => (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];

  const counts = new Map();
  for (let i = 0; i < pixels.length; i += channels) {
    const rgb = rgbAt(i);
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
  }
  const palette = [...counts.entries()].sort((x, y) => y[1] - x[1]).slice(0, 256).map(([rgb]) => rgb);
  const indexOf = new Map(palette.map((rgb, i) => [rgb, i]));
  const nearest = (rgb) => {
    let best = indexOf.get(rgb);
    if (best !== undefined) return best;
    let bestDistance = Infinity;
    for (let i = 0; i < palette.length; i++) {
      const p = palette[i];
      const d = ((rgb >> 16) - (p >> 16)) ** 2 + (((rgb >> 8) & 255) - ((p >> 8) & 255)) ** 2 + ((rgb & 255) - (p & 255)) ** 2;
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    indexOf.set(rgb, best);
    return best;
  };

  const rows = Buffer.alloc(height * (width + 1)); // filter byte 0 (none) per row
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rows[y * (width + 1) + 1 + x] = nearest(rgbAt((y * width + x) * channels));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: indexed
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((rgb, i) => plte.set([rgb >> 16, (rgb >> 8) & 255, rgb & 255], i * 3));
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('PLTE', plte),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
