/** Draws an image input (bytes, H×W×C) on a small canvas, crisp when scaled up by CSS. */
import type { ImageView } from '../../src/protocol/webviewProtocol';

export function thumbnail(image: ImageView, label: string, size = 42): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.className = 'thumb';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const scale = size / Math.max(image.width, image.height);
  canvas.style.width = `${Math.round(image.width * scale)}px`;
  canvas.style.height = `${Math.round(image.height * scale)}px`;
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  const data = context.createImageData(image.width, image.height);
  const n = image.width * image.height;
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    if (image.channels === 1) {
      const v = image.pixels[p] ?? 0;
      data.data[o] = v;
      data.data[o + 1] = v;
      data.data[o + 2] = v;
    } else {
      data.data[o] = image.pixels[p * 3] ?? 0;
      data.data[o + 1] = image.pixels[p * 3 + 1] ?? 0;
      data.data[o + 2] = image.pixels[p * 3 + 2] ?? 0;
    }
    data.data[o + 3] = 255;
  }
  context.putImageData(data, 0, 0);
  return canvas;
}
