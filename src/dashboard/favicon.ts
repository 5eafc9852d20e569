/**
 * The site icon, `/favicon.ico`: a 16×16 ICO (one 32-bit BMP image) drawn here, so there is no binary
 * file to keep and browsers asking for it on a first load get an icon instead of a 404.
 */

const SIZE = 16;
const BRAND: [number, number, number] = [0x4f, 0x46, 0xe5]; // --brand in app.css
const WHITE: [number, number, number] = [0xff, 0xff, 0xff];

/** The drawing, top row first: `#` brand, `o` white, `.` transparent (a rounded tile with a check mark). */
const ROWS = [
  "..############..",
  ".##############.",
  "################",
  "################",
  "############oo##",
  "###########ooo##",
  "##########ooo###",
  "##oo#####ooo####",
  "##ooo###ooo#####",
  "###ooo#ooo######",
  "####ooooo#######",
  "#####ooo########",
  "######o#########",
  "################",
  ".##############.",
  "..############..",
];

export function faviconIco(): Buffer {
  const pixels = Buffer.alloc(SIZE * SIZE * 4);
  // BMP rows run bottom-up, each pixel as B, G, R, A.
  for (let y = 0; y < SIZE; y++) {
    const row = ROWS[SIZE - 1 - y];
    for (let x = 0; x < SIZE; x++) {
      const c = row[x];
      const rgb = c === "o" ? WHITE : BRAND;
      const at = (y * SIZE + x) * 4;
      pixels[at] = rgb[2];
      pixels[at + 1] = rgb[1];
      pixels[at + 2] = rgb[0];
      pixels[at + 3] = c === "." ? 0 : 0xff;
    }
  }
  const mask = Buffer.alloc(SIZE * 4); // 1-bit AND mask, rows padded to 32 bits; alpha decides instead
  const info = Buffer.alloc(40);
  info.writeUInt32LE(40, 0); // header size
  info.writeInt32LE(SIZE, 4);
  info.writeInt32LE(SIZE * 2, 8); // image + mask height
  info.writeUInt16LE(1, 12); // planes
  info.writeUInt16LE(32, 14); // bits per pixel
  info.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([info, pixels, mask]);
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(SIZE, 6);
  header.writeUInt8(SIZE, 7);
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(image.length, 14);
  header.writeUInt32LE(header.length, 18); // offset of the image
  return Buffer.concat([header, image]);
}
