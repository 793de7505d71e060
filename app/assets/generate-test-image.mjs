// Regenerates test.jpg, the image GET /test classifies (a plate with food-ish shapes; the demo
// model's answer is meaningless anyway). Deterministic for a given sharp/libvips version:
//   node app/assets/generate-test-image.mjs
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240">
  <defs><radialGradient id="p"><stop offset="0" stop-color="#fdfaf2"/><stop offset="1" stop-color="#d9d2c3"/></radialGradient></defs>
  <rect width="320" height="240" fill="#6b4a2f"/>
  <ellipse cx="160" cy="122" rx="128" ry="100" fill="url(#p)"/>
  <ellipse cx="130" cy="110" rx="52" ry="38" fill="#e8b04a"/>
  <ellipse cx="190" cy="140" rx="44" ry="30" fill="#c0392b"/>
  <circle cx="200" cy="92" r="18" fill="#4e8f3a"/>
  <circle cx="112" cy="152" r="14" fill="#f4e3b5"/>
</svg>`;

const out = fileURLToPath(new URL("test.jpg", import.meta.url));
await sharp(Buffer.from(svg)).jpeg({ quality: 80, mozjpeg: false }).toFile(out);
console.log(`wrote ${out}`);
