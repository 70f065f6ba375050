import * as zlib from 'node:zlib';

/** An 8-bit RGB or RGBA image, decoded from a non-interlaced PNG: enough to read a headless browser's screenshot. */
export interface Image {
  width: number;
  height: number;
  /** RGB(A) of the pixel at x, y. */
  pixel(x: number, y: number): [number, number, number];
}

export function decodePng(buf: Buffer): Image {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6))
        throw new Error(`unsupported PNG: depth ${depth}, colour ${colour}, interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[y * stride + i - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? out[(y - 1) * stride + i - channels]! : 0;
      let v = line[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => {
      const o = y * stride + x * channels;
      return [out[o]!, out[o + 1]!, out[o + 2]!];
    },
  };
}

/** The number of separate blobs (4-connected) of pixels within `tolerance` of `rgb`. */
export function countBlobs(img: Image, rgb: [number, number, number], tolerance = 12): number {
  const near = (x: number, y: number): boolean => {
    const p = img.pixel(x, y);
    return (
      Math.abs(p[0] - rgb[0]) <= tolerance &&
      Math.abs(p[1] - rgb[1]) <= tolerance &&
      Math.abs(p[2] - rgb[2]) <= tolerance
    );
  };
  const seen = new Uint8Array(img.width * img.height);
  let blobs = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (seen[y * img.width + x] || !near(x, y)) continue;
      blobs++;
      const stack = [[x, y]];
      seen[y * img.width + x] = 1;
      while (stack.length) {
        const [px, py] = stack.pop()!;
        for (const [nx, ny] of [
          [px! + 1, py!],
          [px! - 1, py!],
          [px!, py! + 1],
          [px!, py! - 1],
        ]) {
          if (nx! < 0 || ny! < 0 || nx! >= img.width || ny! >= img.height) continue;
          const k = ny! * img.width + nx!;
          if (seen[k] || !near(nx!, ny!)) continue;
          seen[k] = 1;
          stack.push([nx!, ny!]);
        }
      }
    }
  }
  return blobs;
}
