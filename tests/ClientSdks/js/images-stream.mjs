// The official OpenAI JS SDK's image streaming (stream: true, partial_images) against the service.
// Usage: node images-stream.mjs BASE_URL JSON_BODY [IMAGE_FILE]   (with IMAGE_FILE: images.edit, else images.generate).
// Prints one JSON line: { events: [{ type, partial_image_index, png, bytes, seed }] } — what a JS user iterates.
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const [baseUrl, body, imagePath] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: process.env.DIFFUSION_API_KEY ?? "not-needed", maxRetries: 0 });
const request = { ...JSON.parse(body), stream: true };
const stream = imagePath
  ? await client.images.edit({ ...request, image: await toFile(fs.createReadStream(imagePath), "image.png", { type: "image/png" }) })
  : await client.images.generate(request);
const events = [];
for await (const event of stream) {
  const bytes = Buffer.from(event.b64_json, "base64");
  events.push({
    type: event.type,
    partial_image_index: event.partial_image_index ?? null,
    png: bytes.subarray(1, 4).toString("latin1") === "PNG",
    bytes: bytes.length,
    seed: event.seed ?? null,
  });
}
console.log(JSON.stringify({ events }));
