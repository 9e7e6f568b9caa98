// The playground: a form over POST /v1/jobs that follows the job's event stream (queue position, step progress with
// an ETA, images), shows each problem next to the field it names, and shows every request as curl.
// Controls marked data-capability="…" (the init image, strength and mask) appear only while the selected model lists
// one of those capabilities in /v1/models. The job holds a slot in the gallery while it runs, showing the live
// previews the service sends, until its images take its place.

import { ApiClient, ApiError } from './api.js';
import { curlForEvents, curlForSubmit } from './curl.js';
import { readInitImage, sizeFor } from './init-image.js';
import { MaskEditor } from './mask-editor.js';
import { PendingSlot, previewUrl } from './pending-slot.js';
import { pngText } from './png-text.js';

const KEY_STORAGE = 'diffusion.apiKey';
const GALLERY_LIMIT = 24;
const STREAM_RETRIES = 5;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('generate-form'),
  serviceInfo: $('service-info'),
  keyField: $('api-key-field'),
  key: $('api-key'),
  prompt: $('prompt'),
  negative: $('negative-prompt'),
  width: $('width'),
  height: $('height'),
  steps: $('steps'),
  guidance: $('guidance'),
  count: $('count'),
  rng: $('rng'),
  seed: $('seed'),
  seedRandom: $('seed-random'),
  scheduler: $('scheduler'),
  model: $('model'),
  livePreview: $('live-preview'),
  initImage: $('init-image'),
  initImageRemove: $('init-image-remove'),
  initImageOptions: $('init-image-options'),
  initPreview: $('init-preview'),
  strength: $('strength'),
  strengthValue: $('strength-value'),
  maskGroup: $('mask-group'),
  mask: $('mask'),
  maskState: $('mask-state'),
  brushCursor: $('brush-cursor'),
  brushSize: $('brush-size'),
  maskErase: $('mask-erase'),
  maskInvert: $('mask-invert'),
  maskClear: $('mask-clear'),
  generate: $('generate'),
  cancel: $('cancel'),
  formError: $('form-error'),
  status: $('job-status'),
  progress: $('progress'),
  progressText: $('progress-text'),
  curl: $('curl'),
  copyCurl: $('copy-curl'),
  copyStatus: $('copy-status'),
  gallery: $('gallery'),
};

// Problem "errors" keys (the service's field names) → the control that shows them.
const FIELD_CONTROLS = {
  prompt: 'prompt',
  negative_prompt: 'negative-prompt',
  size: 'width',
  width: 'width',
  height: 'width',
  steps: 'steps',
  guidance_scale: 'guidance',
  n: 'count',
  rng: 'rng',
  seed: 'seed',
  scheduler: 'scheduler',
  model: 'model',
  image: 'init-image',
  strength: 'strength',
  mask: 'mask',
};
const ERROR_ELEMENT = { width: 'size-error', height: 'size-error' };

const api = new ApiClient(() => sessionStorage.getItem(KEY_STORAGE) ?? '');
let models = [];
let limits = null; // Diffusion:Limits from /playground/config
let initImage = null; // { dataUrl, width, height, name } once a file is chosen
const galleryFiles = new WeakMap(); // gallery <li> → its image as a File, for "Use as init image"
const maskEditor = new MaskEditor(ui.mask, ui.brushCursor, () => Number(ui.brushSize.value), () => ui.maskErase.checked, showMaskState);
let current = null; // the job being followed: { id, cancelRequested, runStart, runStartStep, controller, slot }

init();

async function init() {
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    generate();
  });
  ui.prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && current) cancel();
  });
  ui.cancel.addEventListener('click', cancel);
  ui.seedRandom.addEventListener('change', () => {
    ui.seed.disabled = ui.seedRandom.checked;
    if (!ui.seedRandom.checked) ui.seed.focus();
  });
  ui.key.addEventListener('change', () => {
    const key = ui.key.value.trim();
    if (key === '') sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
    loadDiscovery();
  });
  ui.model.addEventListener('change', () => {
    applyModelDefaults();
    applyCapabilities();
  });
  ui.copyCurl.addEventListener('click', copyCurl);
  ui.initImage.addEventListener('change', chooseInitImage);
  ui.initImageRemove.addEventListener('click', removeInitImage);
  ui.strength.addEventListener('input', showStrength);
  ui.brushSize.addEventListener('input', () => ui.brushSize.setAttribute('aria-valuetext', `${ui.brushSize.value} % of the image width`));
  ui.maskInvert.addEventListener('click', () => maskEditor.invert());
  ui.maskClear.addEventListener('click', () => maskEditor.clear());
  ui.gallery.addEventListener('click', useSeedFromGallery);
  ui.gallery.addEventListener('click', useAsInitImage);

  let config;
  try {
    config = await api.config();
  } catch (error) {
    setStatus(`Cannot reach the service: ${error.message}`);
    return;
  }
  applyConfig(config);
  if (config.api_key_required) {
    ui.keyField.hidden = false;
    ui.key.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
    if (ui.key.value === '') {
      ui.serviceInfo.textContent = 'This service requires an API key.';
      setStatus('Enter the API key to start.');
      ui.key.focus();
      return;
    }
  }
  await loadDiscovery();
}

/** Limits become input hints (the form is novalidate: the service's own messages are the ones shown). */
function applyConfig(config) {
  limits = config.limits;
  setRange(ui.width, limits.min_width, limits.max_width);
  setRange(ui.height, limits.min_height, limits.max_height);
  setRange(ui.steps, limits.min_steps, limits.max_steps);
  setRange(ui.guidance, limits.min_guidance, limits.max_guidance);
  ui.count.max = String(limits.max_images);
}

function setRange(input, min, max) {
  input.min = String(min);
  input.max = String(max);
}

/** Fills size, steps, guidance and scheduler with the selected model's defaults (from /v1/models; null until it loaded). */
function applyModelDefaults() {
  const model = models.find((m) => m.id === ui.model.value);
  if ([...ui.scheduler.options].some((o) => o.value === model?.default_scheduler)) ui.scheduler.value = model.default_scheduler;
  const defaults = model?.defaults;
  if (!defaults) return;
  ui.width.value = String(defaults.width);
  ui.height.value = String(defaults.height);
  ui.steps.value = String(defaults.steps);
  ui.guidance.value = String(defaults.guidance_scale);
}

/** Fills the model and scheduler lists; a 401 is shown next to the key, a 503 (model loading) is retried. */
async function loadDiscovery() {
  showFieldError('api-key', '');
  try {
    const [modelList, schedulerList] = await Promise.all([api.models(), api.schedulers()]);
    const first = models.length === 0;
    const previous = ui.model.value;
    models = modelList.data;
    // The model chosen before (a reload after entering the key), else the service's default.
    const chosen = models.find((m) => m.id === previous) ?? models.find((m) => m.default) ?? models[0];
    fillSelect(ui.model, models.map((m) => [m.id, m.state && m.state !== 'loaded' ? `${m.id} (${m.state})` : m.id]), chosen?.id);
    fillSelect(ui.scheduler, schedulerList.data.map((s) => [s.id, `${s.name} (${s.id})`]), schedulerList.default);
    if (first) applyModelDefaults();
    const model = models.find((m) => m.default) ?? models[0];
    const where = model?.execution_provider ? ` on ${model.execution_provider}` : '';
    ui.serviceInfo.textContent = !model ? 'No model loaded'
      : models.length === 1 ? `Model ${model.id}${where}` : `${models.length} models; default ${model.id}${where}`;
    applyCapabilities();
    if (!current) setStatus('Ready.');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      ui.keyField.hidden = false;
      showFieldError('api-key', error.message);
      ui.key.focus();
      setStatus('The service did not accept the API key.');
    } else if (error instanceof ApiError && error.status === 503) {
      const seconds = error.retryAfter ?? 2;
      setStatus(`The service is not ready (${error.message}); retrying in ${seconds} s.`);
      setTimeout(loadDiscovery, seconds * 1000);
    } else {
      setStatus(`Cannot load the model list: ${error.message}`);
    }
  }
}

function fillSelect(select, entries, selected) {
  select.replaceChildren(...entries.map(([value, text]) => new Option(text, value, false, value === selected)));
}

/** Shows controls marked data-capability="a b" only while the selected model lists one of those capabilities. */
function applyCapabilities() {
  const model = models.find((m) => m.id === ui.model.value);
  const capabilities = new Set(Array.isArray(model?.capabilities) ? model.capabilities : []);
  for (const element of document.querySelectorAll('[data-capability]')) {
    element.hidden = !element.dataset.capability.split(' ').some((c) => capabilities.has(c));
  }
}

/** Shown, and so sent: a control hidden for the selected model (or inside a hidden group) sends nothing. */
function shown(element) {
  return element.closest('[hidden]') === null;
}

async function chooseInitImage() {
  const file = ui.initImage.files?.[0];
  if (file) await loadInitImage(file);
}

async function loadInitImage(file) {
  showFieldError('init-image', '');
  try {
    initImage = await readInitImage(file);
  } catch (error) {
    removeInitImage();
    showFieldError('init-image', error.message);
    return;
  }
  ui.initPreview.src = initImage.dataUrl;
  ui.initPreview.parentElement.style.setProperty('--aspect', String(initImage.width / initImage.height));
  maskEditor.reset(initImage.width, initImage.height);
  ui.initImageOptions.hidden = false;
  ui.initImageRemove.disabled = false;
  if (limits) {
    const size = sizeFor(initImage.width, initImage.height, limits);
    ui.width.value = String(size.width);
    ui.height.value = String(size.height);
  }
  setStatus(`Init image ${initImage.name}: ${initImage.width}×${initImage.height}.`);
}

function removeInitImage() {
  initImage = null;
  ui.initImage.value = '';
  ui.initPreview.removeAttribute('src');
  ui.initImageOptions.hidden = true;
  ui.initImageRemove.disabled = true;
  maskEditor.reset(0, 0);
}

function showStrength() {
  ui.strengthValue.textContent = Number(ui.strength.value).toFixed(2);
}

function showMaskState(painted) {
  ui.maskState.textContent = painted ? 'Painted: the painted area is repainted, the rest kept.' : 'Nothing painted.';
}

/**
 * The request body as JSON text, and whether it carries images. Values go to the service as typed (it validates and
 * names each bad field); a seed of digits is written as a JSON number without passing through a JavaScript number, so
 * 64-bit seeds stay exact.
 */
function buildRequestBody() {
  const body = { prompt: ui.prompt.value };
  if (ui.negative.value !== '') body.negative_prompt = ui.negative.value;
  if (ui.width.value !== '' || ui.height.value !== '') body.size = `${ui.width.value}x${ui.height.value}`;
  addNumber(body, 'steps', ui.steps);
  addNumber(body, 'guidance_scale', ui.guidance);
  addNumber(body, 'n', ui.count);
  if (ui.scheduler.value !== '') body.scheduler = ui.scheduler.value;
  if (ui.model.value !== '') body.model = ui.model.value;
  body.rng = ui.rng.value;
  if (ui.livePreview.checked) body.preview = true;
  if (initImage && shown(ui.initImage)) {
    body.image = initImage.dataUrl;
    body.strength = Number(ui.strength.value);
    if (shown(ui.mask) && maskEditor.painted) body.mask = maskEditor.toDataUrl();
  }
  const carriesImages = 'image' in body;
  const seed = ui.seedRandom.checked ? '' : ui.seed.value.trim();
  if (/^\d+$/.test(seed)) return { text: `${JSON.stringify(body).slice(0, -1)},"seed":${seed}}`, carriesImages };
  if (seed !== '') body.seed = seed;
  return { text: JSON.stringify(body), carriesImages };
}

function addNumber(body, name, input) {
  if (input.value !== '') body[name] = Number(input.value);
}

async function generate() {
  if (current) return;
  clearErrors();
  const { text: bodyText, carriesImages } = buildRequestBody();
  const submitCurl = curlForSubmit(new URL('/v1/jobs', location.origin).href, bodyText, api.sendsKey, carriesImages);
  showCurl(submitCurl, carriesImages);
  setBusy(true);
  setStatus('Submitting…');
  setProgress(0, 0, 'submitting');
  try {
    const job = await api.submit(bodyText);
    const slot = new PendingSlot(ui.gallery, Number(ui.width.value), Number(ui.height.value));
    current = { id: job.id, cancelRequested: false, runStart: null, runStartStep: 0, controller: new AbortController(), slot };
    ui.status.dataset.jobId = job.id;
    showCurl(`${submitCurl}\n\n` +
      `# then follow the job (Server-Sent Events):\n${curlForEvents(api.eventsUrl(job.id), api.sendsKey)}`, carriesImages);
    render(job);
    await follow(current);
  } catch (error) {
    showRequestError(error);
  } finally {
    current?.slot.remove(); // still there when the job did not finish
    current = null;
    setBusy(false);
  }
}

/** Follows the job's event stream to its end, reconnecting a few times if the connection drops. */
async function follow(job) {
  let lastEventId = null;
  for (let attempt = 0; attempt <= STREAM_RETRIES; attempt++) {
    try {
      for await (const { event, status, id } of api.events(job.id, lastEventId, job.controller.signal)) {
        if (id) lastEventId = id;
        render(status);
        if (event === 'completed') return showImages(status);
        if (event === 'failed' || event === 'cancelled') return;
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
    }
    setStatus('Connection lost; reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('the event stream kept dropping; the job may still finish (see the curl commands)');
}

function render(status) {
  const { step, total_steps: total } = status.progress;
  switch (status.status) {
    case 'queued':
      setStatus(current?.cancelRequested ? 'Cancelling…' : `Queued: position ${status.queue_position ?? '?'} in the queue.`);
      setProgress(0, total, `queued at position ${status.queue_position ?? '?'}`);
      current?.slot.describe(`Queued (position ${status.queue_position ?? '?'})`);
      break;
    case 'running': {
      if (current && current.runStart === null) {
        current.runStart = performance.now();
        current.runStartStep = step;
      }
      const eta = estimateSeconds(step, total);
      setStatus(current?.cancelRequested ? 'Cancelling…' : 'Running.');
      setProgress(step, total, eta === null ? '' : `ETA ${eta} s`);
      current?.slot.describe(`Step ${step} of ${total}`);
      const preview = previewUrl(status.preview);
      if (preview) current?.slot.showPreview(preview, step, total);
      break;
    }
    case 'succeeded': {
      const seconds = current?.runStart == null ? null : ((performance.now() - current.runStart) / 1000).toFixed(1);
      setStatus(`Done: ${status.data?.length ?? 0} image(s)${seconds === null ? '' : ` in ${seconds} s`}.`);
      setProgress(total, total, 'done');
      current?.slot.describe('Fetching the images…');
      break;
    }
    case 'failed':
      setStatus(`Failed: ${status.error ?? 'the service gave no reason'}`);
      current?.slot.remove();
      break;
    case 'cancelled':
      setStatus('Cancelled.');
      setProgress(0, total, 'cancelled');
      current?.slot.remove();
      break;
  }
}

/** Seconds left from the pace since this page saw the job start running; null until a step has been timed. */
function estimateSeconds(step, total) {
  if (!current || current.runStart === null || step <= current.runStartStep) return null;
  const perStep = (performance.now() - current.runStart) / (step - current.runStartStep);
  return Math.max(0, Math.round((perStep * (total - step)) / 1000));
}

function setProgress(step, total, note) {
  const percent = total > 0 ? Math.min(100, Math.round((step * 100) / total)) : 0;
  ui.progress.setAttribute('aria-valuenow', String(percent));
  ui.progress.setAttribute('aria-valuetext', total > 0 ? `step ${step} of ${total}${note ? `, ${note}` : ''}` : note || 'not started');
  ui.progress.style.setProperty('--progress', String(percent));
  ui.progressText.textContent = total > 0 ? `${step} / ${total} steps · ${percent} %${note ? ` · ${note}` : ''}` : note || '\u00a0';
}

async function cancel() {
  const job = current;
  if (!job || job.cancelRequested) return;
  job.cancelRequested = true;
  ui.cancel.disabled = true;
  setStatus('Cancelling…');
  try {
    const status = await api.cancel(job.id);
    if (status.status === 'cancelled') render(status);
  } catch (error) {
    // 409: it finished first; the event stream reports how.
    if (!(error instanceof ApiError && error.status === 409)) showRequestError(error);
  }
}

async function showImages(status) {
  const items = status.data ?? [];
  const prompt = ui.prompt.value;
  const figures = await Promise.all(items.map(async (item, index) => {
    const bytes = await api.image(item.url);
    const buffer = await bytes.arrayBuffer();
    const card = galleryItem(URL.createObjectURL(bytes), item.seed, pngText(buffer, 'parameters'), `${index + 1} of ${items.length}`, prompt, bytes.type);
    galleryFiles.set(card, new File([bytes], `diffusion-${item.seed}.${extensionOf(bytes.type)}`, { type: bytes.type }));
    return card;
  }));
  if (current?.slot.inGallery) current.slot.replaceWith(figures);
  else ui.gallery.prepend(...figures);
  applyCapabilities(); // the new cards' "Use as init image"
  while (ui.gallery.children.length > GALLERY_LIMIT) {
    const last = ui.gallery.lastElementChild;
    URL.revokeObjectURL(last.querySelector('img').src);
    last.remove();
  }
  // With a random seed, the seed box shows the one just used: unticking Random locks it.
  if (items.length > 0 && ui.seedRandom.checked) ui.seed.value = items[0].seed;
}

function galleryItem(url, seed, infotext, position, prompt, type) {
  const image = element('img', { src: url, alt: `Generated image ${position}, seed ${seed}: ${prompt}` });
  image.dataset.seed = seed;
  const caption = element('figcaption', {},
    element('p', { className: 'seed' }, 'Seed ', element('code', {}, seed)),
    element('pre', { className: 'infotext', tabIndex: 0, ariaLabel: `Infotext of the image with seed ${seed}` },
      infotext ?? 'This format carries no infotext.'),
    element('div', { className: 'card-actions' },
      element('a', { href: url, download: `diffusion-${seed}.${extensionOf(type)}` }, 'Download'),
      element('button', { type: 'button', className: 'use-seed', value: seed }, 'Use this seed'),
      element('button', { type: 'button', className: 'use-as-init', dataset: { capability: 'img2img inpaint' } }, 'Use as init image')));
  return element('li', {}, element('figure', {}, image, caption));
}

function extensionOf(type) {
  return { 'image/jpeg': 'jpg', 'image/webp': 'webp' }[type] ?? 'png';
}

function useSeedFromGallery(event) {
  const button = event.target.closest('button.use-seed');
  if (!button) return;
  ui.seedRandom.checked = false;
  ui.seed.disabled = false;
  ui.seed.value = button.value;
  ui.seed.focus();
  setStatus(`Seed ${button.value} locked.`);
}

/** A gallery image as the init image (image-to-image from a result); the file input shows it as chosen. */
async function useAsInitImage(event) {
  const button = event.target.closest('button.use-as-init');
  const file = button && galleryFiles.get(button.closest('li'));
  if (!file) return;
  const files = new DataTransfer();
  files.items.add(file);
  ui.initImage.files = files.files;
  await loadInitImage(file);
  ui.initImage.focus();
}

function element(tag, properties, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'ariaLabel') node.setAttribute('aria-label', value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
}

function showRequestError(error) {
  if (!(error instanceof ApiError)) {
    setStatus(`The request failed: ${error.message}`);
    return;
  }
  const problem = error.problem ?? {};
  if (error.status === 401) {
    ui.keyField.hidden = false;
    showFieldError('api-key', error.message);
    ui.key.focus();
    setStatus('The service did not accept the API key.');
    return;
  }
  if (problem.errors && typeof problem.errors === 'object') {
    const unplaced = [];
    let first = null;
    for (const [field, messages] of Object.entries(problem.errors)) {
      const control = FIELD_CONTROLS[field];
      const text = [].concat(messages).join(' ');
      if (!control) {
        unplaced.push(`${field}: ${text}`);
        continue;
      }
      appendFieldError(control, text);
      first ??= control;
    }
    if (unplaced.length > 0) ui.formError.textContent = unplaced.join(' ');
    setStatus(problem.title ?? 'The request is invalid.');
    if (first) $(first).focus();
    return;
  }
  const retry = error.retryAfter === null ? '' : ` Try again in ${error.retryAfter} s.`;
  ui.formError.textContent = `${error.message}${retry}`;
  setStatus(problem.title ?? `The service answered ${error.status}.`);
}

function errorElementFor(control) {
  return $(ERROR_ELEMENT[control] ?? `${control}-error`);
}

function showFieldError(control, text) {
  errorElementFor(control).textContent = text;
  $(control).setAttribute('aria-invalid', text === '' ? 'false' : 'true');
}

function appendFieldError(control, text) {
  const target = errorElementFor(control);
  target.textContent = target.textContent === '' ? text : `${target.textContent} ${text}`;
  $(control).setAttribute('aria-invalid', 'true');
  if (control === 'width') ui.height.setAttribute('aria-invalid', 'true');
}

function clearErrors() {
  for (const node of document.querySelectorAll('.field-error')) node.textContent = '';
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.setAttribute('aria-invalid', 'false');
}

function setBusy(busy) {
  ui.generate.disabled = busy;
  ui.cancel.disabled = !busy;
}

function setStatus(text) {
  ui.status.textContent = text;
}

/** Base64 images make lines of megabytes: those are shown unwrapped in a scrolling box (wrapping them takes seconds). */
function showCurl(text, longLines) {
  ui.curl.classList.toggle('long-lines', longLines);
  ui.curl.textContent = text;
  ui.copyCurl.disabled = false;
}

async function copyCurl() {
  const text = ui.curl.textContent;
  try {
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    ui.copyStatus.textContent = 'Copied.';
  } catch {
    // Without clipboard access (plain http on another host, or denied): select it for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents(ui.curl);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    ui.curl.focus();
    ui.copyStatus.textContent = 'Selected: press Ctrl+C to copy.';
  }
}
