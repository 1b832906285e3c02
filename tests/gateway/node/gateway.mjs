// The official openai npm package against the gateway: chat, a streamed chat, and a blocked prompt.
// Usage: node gateway.mjs BASE_URL API_KEY BLOCKED_PROMPT ; prints one JSON line.
import OpenAI from "openai";

const [baseURL, apiKey, blocked] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = (content) => [{ role: "user", content }];
const result = {};

const chat = await client.chat.completions.create({ model: "gpt-4o-mini", messages: messages("Say hello") });
result.chat = chat.choices[0].message.content;

const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: messages("Say hi"), stream: true });
let streamed = "";
for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
result.stream = streamed;

try {
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: messages(blocked) });
  result.blocked = { status: null };
} catch (err) {
  result.blocked = { status: err.status, type: err.type, code: err.code, violations: err.error?.violations };
}
console.log(JSON.stringify(result));
