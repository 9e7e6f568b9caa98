// The init image of image-to-image and inpainting: the chosen file's bytes as a data URL, sent unchanged (the service
// checks the format and its limits and names the field), and its pixel size, which the mask and the suggested output
// size follow.

/** Reads a file the browser can show as an image: { dataUrl, width, height, name }. Rejects when it cannot. */
export async function readInitImage(file) {
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => resolve(reader.result));
    reader.addEventListener('error', () => reject(reader.error ?? new Error('the file could not be read')));
    reader.readAsDataURL(file);
  });
  const image = new Image();
  image.src = dataUrl;
  try {
    await image.decode();
  } catch {
    throw new Error(`${file.name} cannot be shown as an image; choose a PNG, JPEG or WebP file`);
  }
  return { dataUrl, width: image.naturalWidth, height: image.naturalHeight, name: file.name };
}

/**
 * The output size for an image, as the service picks one without `size`: its own size, scaled down (keeping the
 * aspect ratio) only as far as the limits require, each side rounded down to a multiple of 8.
 */
export function sizeFor(width, height, limits) {
  const scale = Math.min(1, limits.max_width / width, limits.max_height / height, Math.sqrt(limits.max_pixels / (width * height)));
  const side = (value, min) => Math.max(min, Math.floor((value * scale) / 8) * 8);
  return { width: side(width, limits.min_width), height: side(height, limits.min_height) };
}
