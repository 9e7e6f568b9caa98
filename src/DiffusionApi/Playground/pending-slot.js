// The gallery slot of the job being followed: it holds the job's place while it is queued and running, shows the
// latest live preview the service sends, and gives way to the finished images (or goes when the job does not finish).

// A preview is base64 in the job's output format (the events carry no type): its first bytes tell which.
const PREVIEW_TYPES = [['iVBOR', 'image/png'], ['/9j/', 'image/jpeg'], ['UklGR', 'image/webp']];

/** A progress event's preview as a data: URL, or null when there is none or it is not an image the page knows. */
export function previewUrl(preview) {
  if (typeof preview !== 'string' || preview === '') return null;
  if (preview.startsWith('data:image/')) return preview;
  const type = PREVIEW_TYPES.find(([start]) => preview.startsWith(start))?.[1];
  return type ? `data:${type};base64,${preview}` : null;
}

export class PendingSlot {
  /** Prepends an empty slot shaped like the requested size (width × height; 0 when unknown). */
  constructor(gallery, width, height) {
    this.item = document.createElement('li');
    this.item.className = 'pending';
    this.item.setAttribute('aria-busy', 'true');
    this.frame = document.createElement('div');
    this.frame.className = 'preview-frame';
    if (width > 0 && height > 0) this.frame.style.setProperty('aspect-ratio', `${width} / ${height}`);
    this.caption = document.createElement('figcaption');
    const figure = document.createElement('figure');
    figure.append(this.frame, this.caption);
    this.item.append(figure);
    this.image = null;
    gallery.prepend(this.item);
  }

  /** The slot's caption: what the job is doing. */
  describe(text) {
    this.caption.textContent = text;
  }

  /** Shows a preview image (a data: URL) of the step just run. */
  showPreview(url, step, total) {
    if (!this.image) {
      this.image = document.createElement('img');
      this.image.className = 'live-preview';
      this.frame.append(this.image);
    }
    this.image.src = url;
    this.image.alt = `Live preview at step ${step} of ${total}`;
    this.image.dataset.step = String(step);
  }

  get inGallery() {
    return this.item.isConnected;
  }

  /** Puts the finished images in the slot's place. */
  replaceWith(nodes) {
    this.item.replaceWith(...nodes);
  }

  remove() {
    this.item.remove();
  }
}
