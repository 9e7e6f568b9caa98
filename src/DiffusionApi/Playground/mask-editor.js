// The inpainting mask, painted on a <canvas> laid over the init image at the image's own pixel size (the service
// wants a mask of the image's size). The canvas keeps only the painted area (any colour, alpha = painted); export turns
// it into the convention of the service's JSON bodies: white = repaint, black = keep. Pointer and keyboard both paint:
// the arrows move a brush cursor, Space paints at it (held while moving, it paints a line).

const PAINT_COLOUR = 'rgb(255 64 160)';

export class MaskEditor {
  /**
   * @param {HTMLCanvasElement} canvas the mask, over the init image
   * @param {HTMLElement} cursor the brush outline shown while the canvas has the keyboard focus
   * @param {() => number} brushPercent the brush diameter as a percentage of the image width
   * @param {() => boolean} erasing whether strokes erase instead of paint
   * @param {(painted: boolean) => void} onChange called after each change with whether anything is painted
   */
  constructor(canvas, cursor, brushPercent, erasing, onChange) {
    this.canvas = canvas;
    this.context = canvas.getContext('2d', { willReadFrequently: true });
    this.cursor = cursor;
    this.brushPercent = brushPercent;
    this.erasing = erasing;
    this.onChange = onChange;
    this.keyPoint = null; // the keyboard brush position in image pixels
    this.spaceDown = false;
    this.last = null; // the last point of the pointer stroke in progress
    this.isPainted = false;
    canvas.addEventListener('pointerdown', (event) => this.#pointerDown(event));
    canvas.addEventListener('pointermove', (event) => this.#pointerMove(event));
    canvas.addEventListener('pointerup', () => this.#endStroke());
    canvas.addEventListener('pointercancel', () => this.#endStroke());
    canvas.addEventListener('keydown', (event) => this.#keyDown(event));
    canvas.addEventListener('keyup', (event) => {
      if (event.key === ' ') this.spaceDown = false;
    });
    canvas.addEventListener('focus', () => this.#showCursor());
    canvas.addEventListener('blur', () => {
      this.cursor.hidden = true;
      this.spaceDown = false;
    });
  }

  /** Starts an empty mask of the image's size. */
  reset(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.keyPoint = { x: width / 2, y: height / 2 };
    this.clear();
  }

  clear() {
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.#changed(false);
  }

  /** Painted becomes kept and kept becomes painted. */
  invert() {
    const { context, canvas } = this;
    context.save();
    context.globalCompositeOperation = 'xor';
    context.fillStyle = PAINT_COLOUR;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.restore();
    this.#changed(this.#scan());
  }

  /** Whether anything is painted (and so a mask is sent). */
  get painted() {
    return this.isPainted;
  }

  /** Whether any pixel is painted at least half (the service thresholds the mask at 50 %); read after erasing only. */
  #scan() {
    const { width, height } = this.canvas;
    if (width === 0 || height === 0) return false;
    const pixels = this.context.getImageData(0, 0, width, height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] >= 128) return true;
    return false;
  }

  /** The mask as a PNG data URL of the image's size: white where painted, black elsewhere. */
  toDataUrl() {
    const { width, height } = this.canvas;
    const out = document.createElement('canvas');
    out.width = width;
    out.height = height;
    const context = out.getContext('2d');
    context.drawImage(this.canvas, 0, 0);
    context.globalCompositeOperation = 'source-in'; // the painted area, in white with its coverage
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    context.globalCompositeOperation = 'destination-over'; // black under it
    context.fillStyle = '#000000';
    context.fillRect(0, 0, width, height);
    return out.toDataURL('image/png');
  }

  #diameter() {
    return Math.max(1, (this.canvas.width * this.brushPercent()) / 100);
  }

  /** A pointer position in image pixels (the canvas is shown scaled). */
  #imagePoint(event) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) * this.canvas.width) / rect.width,
      y: ((event.clientY - rect.top) * this.canvas.height) / rect.height,
    };
  }

  #pointerDown(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.canvas.focus({ preventScroll: true });
    this.last = this.#imagePoint(event);
    this.#stroke(this.last, this.last);
  }

  #pointerMove(event) {
    if (!this.last) return;
    const point = this.#imagePoint(event);
    this.#stroke(this.last, point);
    this.last = point;
  }

  #endStroke() {
    if (!this.last) return;
    this.last = null;
    this.#strokeDone();
  }

  #keyDown(event) {
    const step = Math.max(1, this.canvas.width / (event.shiftKey ? 8 : 32));
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const from = this.keyPoint;
    if (!from) return;
    if (event.key === ' ') {
      event.preventDefault();
      if (event.repeat) return;
      this.spaceDown = true;
      this.#stroke(from, from);
      this.#strokeDone();
      return;
    }
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const to = {
      x: Math.min(this.canvas.width, Math.max(0, from.x + move[0])),
      y: Math.min(this.canvas.height, Math.max(0, from.y + move[1])),
    };
    this.keyPoint = to;
    if (this.spaceDown) {
      this.#stroke(from, to);
      this.#strokeDone();
    }
    this.#showCursor();
  }

  #stroke(from, to) {
    const { context } = this;
    context.save();
    context.globalCompositeOperation = this.erasing() ? 'destination-out' : 'source-over';
    context.strokeStyle = PAINT_COLOUR;
    context.lineWidth = this.#diameter();
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    context.restore();
  }

  /** The brush outline at the keyboard position, in percentages of the shown image so it scales with it. */
  #showCursor() {
    if (!this.keyPoint || this.canvas.width === 0) return;
    const { width, height } = this.canvas;
    const diameter = this.#diameter();
    const style = this.cursor.style;
    style.setProperty('left', `${((this.keyPoint.x - diameter / 2) * 100) / width}%`);
    style.setProperty('top', `${((this.keyPoint.y - diameter / 2) * 100) / height}%`);
    style.setProperty('width', `${(diameter * 100) / width}%`);
    style.setProperty('height', `${(diameter * 100) / height}%`);
    this.cursor.hidden = false;
  }

  /** A paint stroke leaves something painted; only an erasing one needs the pixels read. */
  #strokeDone() {
    this.#changed(this.erasing() ? this.#scan() : true);
  }

  #changed(painted) {
    this.isPainted = painted;
    this.onChange(painted);
  }
}
