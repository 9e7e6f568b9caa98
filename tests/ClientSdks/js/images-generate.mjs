// The official OpenAI JS SDK's images.generate against the service.
// Usage: node images-generate.mjs BASE_URL JSON_BODY   (BASE_URL without /v1; JSON_BODY is the request).
// Prints one JSON line: { data: [{ seed, revised_prompt?, bytes }] } — what a JS user reads, numbers as JS parses them.
import OpenAI from "openai";

const [baseUrl, body] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: process.env.DIFFUSION_API_KEY ?? "not-needed", maxRetries: 0 });
const result = await client.images.generate(JSON.parse(body));
const data = result.data.map((image) => ({
  seed: image.seed,
  seed_is_safe_integer: Number.isSafeInteger(image.seed),
  bytes: image.b64_json ? Buffer.from(image.b64_json, "base64").length : 0,
  url: image.url ?? null,
}));
console.log(JSON.stringify({ data }));
