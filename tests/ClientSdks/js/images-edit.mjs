// The official OpenAI JS SDK's images.edit against the service.
// Usage: node images-edit.mjs BASE_URL IMAGE_FILE MASK_FILE|- JSON_PARAMS   (BASE_URL without /v1; JSON_PARAMS: prompt, n, size, …).
// Prints one JSON line: { data: [{ seed, bytes, png }] } — what a JS user reads.
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const [baseUrl, imagePath, maskPath, params] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: process.env.DIFFUSION_API_KEY ?? "not-needed", maxRetries: 0 });
const request = {
  ...JSON.parse(params),
  image: await toFile(fs.createReadStream(imagePath), "image.png", { type: "image/png" }),
};
if (maskPath !== "-") request.mask = await toFile(fs.createReadStream(maskPath), "mask.png", { type: "image/png" });
const result = await client.images.edit(request);
const data = result.data.map((image) => {
  const bytes = Buffer.from(image.b64_json, "base64");
  return { seed: image.seed, bytes: bytes.length, png: bytes.subarray(1, 4).toString("latin1") === "PNG" };
});
console.log(JSON.stringify({ data }));
