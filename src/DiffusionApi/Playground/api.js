// The service's HTTP API as the page uses it: same origin, an optional bearer key, RFC 9457 problems as ApiError,
// and seeds kept exact (they are unsigned 64-bit; a JavaScript number keeps only 53 bits).

import { readServerSentEvents } from './sse.js';

/** A non-2xx answer: its status, its problem+json body (or null) and its Retry-After seconds (or null). */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `the service answered ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** JSON.parse that keeps every "seed" as its exact decimal string. */
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    key === 'seed' && typeof value === 'number' ? (context?.source ?? String(value)) : value);
}

export class ApiClient {
  /** @param {() => string} apiKey the key to send, or '' for none */
  constructor(apiKey) {
    this.apiKey = apiKey;
  }

  get sendsKey() {
    return this.apiKey() !== '';
  }

  /** GET /playground/config: answered without a key, so the page learns whether it must ask for one. */
  config() {
    return this.#json('GET', '/playground/config');
  }

  models() {
    return this.#json('GET', '/v1/models');
  }

  schedulers() {
    return this.#json('GET', '/v1/schedulers');
  }

  /** POST /v1/jobs with the body text exactly as given (the page shows the same text as curl). */
  submit(bodyText) {
    return this.#json('POST', '/v1/jobs', bodyText);
  }

  cancel(jobId) {
    return this.#json('DELETE', `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  /** The job's Server-Sent Events as { event, status, id } until the stream ends. */
  async *events(jobId, lastEventId, signal) {
    const headers = this.#headers();
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const response = await fetch(this.eventsUrl(jobId), { headers, signal, cache: 'no-store' });
    if (!response.ok) throw await ApiClient.#error(response);
    for await (const item of readServerSentEvents(response.body)) {
      yield { event: item.event, status: parseJson(item.data), id: item.id };
    }
  }

  eventsUrl(jobId) {
    return new URL(`/v1/jobs/${encodeURIComponent(jobId)}/events`, location.origin).href;
  }

  /** A stored image's bytes (with the key, which an <img src> could not send). */
  async image(url) {
    const response = await fetch(url, { headers: this.#headers() });
    if (!response.ok) throw await ApiClient.#error(response);
    return response.blob();
  }

  #headers(json) {
    const headers = {};
    const key = this.apiKey();
    if (key !== '') headers.Authorization = `Bearer ${key}`;
    if (json) headers['Content-Type'] = 'application/json';
    return headers;
  }

  async #json(method, path, bodyText) {
    const response = await fetch(path, {
      method,
      headers: this.#headers(bodyText !== undefined),
      body: bodyText,
      cache: 'no-store',
    });
    if (!response.ok) throw await ApiClient.#error(response);
    return parseJson(await response.text());
  }

  static async #error(response) {
    let problem = null;
    const type = response.headers.get('Content-Type') ?? '';
    if (type.includes('json')) {
      try {
        problem = parseJson(await response.text());
      } catch {
        problem = null;
      }
    }
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    return new ApiError(response.status, problem, Number.isFinite(retryAfter) ? retryAfter : null);
  }
}
